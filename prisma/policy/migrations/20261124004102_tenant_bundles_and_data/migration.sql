-- policy_bundle was the service skeleton's placeholder: no code ever wrote to it.
-- DropTable
DROP TABLE "policy"."policy_bundle";

-- CreateTable
CREATE TABLE "policy"."tenant_bundle" (
    "tenant" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "bundle" BYTEA,
    "digest" TEXT,
    "actor_type" TEXT NOT NULL,
    "actor_id" TEXT NOT NULL,
    "reason" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "tenant_bundle_pkey" PRIMARY KEY ("tenant","version")
);

-- CreateTable
CREATE TABLE "policy"."tenant_data" (
    "tenant" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "data" JSONB NOT NULL,
    "actor_type" TEXT NOT NULL,
    "actor_id" TEXT NOT NULL,
    "reason" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "tenant_data_pkey" PRIMARY KEY ("tenant","version")
);

-- CreateTable
CREATE TABLE "policy"."rejected_activation" (
    "tenant" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "error" TEXT NOT NULL,
    "actor_type" TEXT NOT NULL,
    "actor_id" TEXT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "rejected_activation_pkey" PRIMARY KEY ("tenant")
);

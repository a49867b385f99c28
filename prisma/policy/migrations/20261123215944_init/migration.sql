-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "policy";

-- CreateTable
CREATE TABLE "policy"."policy_bundle" (
    "id" UUID NOT NULL,
    "tenant" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "status" TEXT NOT NULL,
    "wasm" BYTEA NOT NULL,
    "data" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "policy_bundle_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "policy_bundle_tenant_version_key" ON "policy"."policy_bundle"("tenant", "version");

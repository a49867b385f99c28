-- DropIndex
DROP INDEX "devices"."device_tenant_owner_id_idx";

-- AlterTable
ALTER TABLE "devices"."device" ALTER COLUMN "owner_id" SET DATA TYPE TEXT;

-- CreateTable
CREATE TABLE "devices"."device_credential" (
    "id" UUID NOT NULL,
    "tenant" TEXT NOT NULL,
    "device_id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'active',
    "kid" TEXT,
    "jwk" JSONB,
    "thumbprint" TEXT,
    "secret_hash" TEXT,
    "expires_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "device_credential_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "devices"."device_audit" (
    "id" BIGSERIAL NOT NULL,
    "tenant" TEXT NOT NULL,
    "device_id" UUID NOT NULL,
    "event" TEXT NOT NULL,
    "actor_type" TEXT NOT NULL,
    "actor_id" TEXT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,
    "from_status" TEXT,
    "to_status" TEXT,
    "reason" TEXT,
    "details" JSONB NOT NULL DEFAULT '{}',

    CONSTRAINT "device_audit_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "devices"."outbox_event" (
    "seq" BIGSERIAL NOT NULL,
    "id" UUID NOT NULL,
    "subject" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "published_at" TIMESTAMPTZ(3),

    CONSTRAINT "outbox_event_pkey" PRIMARY KEY ("seq")
);

-- CreateTable
CREATE TABLE "devices"."claim_code" (
    "tenant" TEXT NOT NULL,
    "device_id" UUID NOT NULL,
    "code_hash" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "used_at" TIMESTAMPTZ(3),
    "used_by" TEXT,

    CONSTRAINT "claim_code_pkey" PRIMARY KEY ("tenant","device_id")
);

-- CreateTable
CREATE TABLE "devices"."claim_failure" (
    "tenant" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "failures" INTEGER NOT NULL,
    "window_started_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "claim_failure_pkey" PRIMARY KEY ("tenant","kind","key")
);

-- CreateTable
CREATE TABLE "devices"."assertion_jti" (
    "tenant" TEXT NOT NULL,
    "device_id" UUID NOT NULL,
    "jti" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "assertion_jti_pkey" PRIMARY KEY ("tenant","device_id","jti")
);

-- CreateIndex
CREATE UNIQUE INDEX "device_credential_tenant_device_id_kind_thumbprint_key" ON "devices"."device_credential"("tenant", "device_id", "kind", "thumbprint");

-- CreateIndex
CREATE INDEX "device_audit_tenant_device_id_id_idx" ON "devices"."device_audit"("tenant", "device_id", "id");

-- CreateIndex
CREATE UNIQUE INDEX "outbox_event_id_key" ON "devices"."outbox_event"("id");

-- CreateIndex
CREATE INDEX "outbox_event_pending_idx" ON "devices"."outbox_event"("seq") WHERE (published_at IS NULL);

-- CreateIndex
CREATE UNIQUE INDEX "claim_code_tenant_code_hash_key" ON "devices"."claim_code"("tenant", "code_hash");

-- CreateIndex
CREATE INDEX "claim_failure_tenant_window_started_at_idx" ON "devices"."claim_failure"("tenant", "window_started_at");

-- CreateIndex
CREATE INDEX "assertion_jti_tenant_expires_at_idx" ON "devices"."assertion_jti"("tenant", "expires_at");

-- CreateIndex
CREATE INDEX "device_tenant_created_at_id_idx" ON "devices"."device"("tenant", "created_at", "id");

-- CreateIndex
CREATE INDEX "device_tenant_status_created_at_id_idx" ON "devices"."device"("tenant", "status", "created_at", "id");

-- CreateIndex
CREATE INDEX "device_tenant_type_created_at_id_idx" ON "devices"."device"("tenant", "type", "created_at", "id");

-- CreateIndex
CREATE INDEX "device_tenant_owner_id_created_at_id_idx" ON "devices"."device"("tenant", "owner_id", "created_at", "id");

-- CreateIndex
CREATE INDEX "device_attributes_idx" ON "devices"."device" USING GIN ("attributes" jsonb_path_ops);

-- AddForeignKey
ALTER TABLE "devices"."device_credential" ADD CONSTRAINT "device_credential_device_id_fkey" FOREIGN KEY ("device_id") REFERENCES "devices"."device"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "devices"."claim_code" ADD CONSTRAINT "claim_code_device_id_fkey" FOREIGN KEY ("device_id") REFERENCES "devices"."device"("id") ON DELETE CASCADE ON UPDATE CASCADE;

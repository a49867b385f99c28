-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "devices";

-- CreateTable
CREATE TABLE "devices"."device" (
    "id" UUID NOT NULL,
    "tenant" TEXT NOT NULL,
    "serial" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "model" TEXT,
    "firmware_version" TEXT,
    "location" TEXT,
    "attributes" JSONB NOT NULL DEFAULT '{}',
    "owner_id" UUID,
    "status" TEXT NOT NULL DEFAULT 'provisioned',
    "managed_by" TEXT NOT NULL DEFAULT 'api',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "last_seen_at" TIMESTAMPTZ(3),

    CONSTRAINT "device_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "device_tenant_owner_id_idx" ON "devices"."device"("tenant", "owner_id");

-- CreateIndex
CREATE UNIQUE INDEX "device_tenant_serial_key" ON "devices"."device"("tenant", "serial");

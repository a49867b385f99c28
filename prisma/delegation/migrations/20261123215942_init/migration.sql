-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "delegation";

-- CreateTable
CREATE TABLE "delegation"."delegation_grant" (
    "id" UUID NOT NULL,
    "tenant" TEXT NOT NULL,
    "delegator_id" TEXT NOT NULL,
    "delegatee_id" TEXT NOT NULL,
    "resource" TEXT NOT NULL,
    "scopes" TEXT[],
    "not_before" TIMESTAMPTZ(3) NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'active',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "delegation_grant_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "delegation_grant_tenant_delegatee_id_status_idx" ON "delegation"."delegation_grant"("tenant", "delegatee_id", "status");

-- CreateIndex
CREATE INDEX "delegation_grant_tenant_delegator_id_status_idx" ON "delegation"."delegation_grant"("tenant", "delegator_id", "status");

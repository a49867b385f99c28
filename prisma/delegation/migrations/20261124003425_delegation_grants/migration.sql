-- DropTable
DROP TABLE "delegation"."delegation_grant";

-- CreateTable
CREATE TABLE "delegation"."grant" (
    "id" UUID NOT NULL,
    "tenant" TEXT NOT NULL,
    "delegator_id" TEXT NOT NULL,
    "delegator_name" TEXT NOT NULL,
    "delegatee_type" TEXT NOT NULL,
    "delegatee_id" TEXT NOT NULL,
    "delegatee_name" TEXT NOT NULL,
    "resource" TEXT NOT NULL,
    "scopes" TEXT[],
    "not_before" TIMESTAMPTZ(3) NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "constraints" JSONB,
    "max_uses" INTEGER,
    "redelegation_allowed" BOOLEAN NOT NULL,
    "redelegation_max_depth" INTEGER NOT NULL,
    "depth" INTEGER NOT NULL,
    "parent_id" UUID,
    "ancestors" UUID[],
    "root_delegator_id" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "uses" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "ended_at" TIMESTAMPTZ(3),
    "ended_by_type" TEXT,
    "ended_by_id" TEXT,
    "reason" TEXT,

    CONSTRAINT "grant_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "delegation"."grant_audit" (
    "id" BIGSERIAL NOT NULL,
    "tenant" TEXT NOT NULL,
    "grant_id" UUID NOT NULL,
    "event" TEXT NOT NULL,
    "actor_type" TEXT NOT NULL,
    "actor_id" TEXT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,
    "reason" TEXT,
    "details" JSONB NOT NULL DEFAULT '{}',

    CONSTRAINT "grant_audit_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "delegation"."outbox_event" (
    "seq" BIGSERIAL NOT NULL,
    "id" UUID NOT NULL,
    "subject" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "published_at" TIMESTAMPTZ(3),

    CONSTRAINT "outbox_event_pkey" PRIMARY KEY ("seq")
);

-- CreateIndex
CREATE INDEX "grant_tenant_delegator_id_created_at_id_idx" ON "delegation"."grant"("tenant", "delegator_id", "created_at", "id");

-- CreateIndex
CREATE INDEX "grant_tenant_delegatee_type_delegatee_id_created_at_id_idx" ON "delegation"."grant"("tenant", "delegatee_type", "delegatee_id", "created_at", "id");

-- CreateIndex
CREATE INDEX "grant_tenant_resource_status_idx" ON "delegation"."grant"("tenant", "resource", "status");

-- CreateIndex
CREATE INDEX "grant_tenant_parent_id_idx" ON "delegation"."grant"("tenant", "parent_id");

-- CreateIndex
CREATE INDEX "grant_tenant_status_expires_at_idx" ON "delegation"."grant"("tenant", "status", "expires_at");

-- CreateIndex
CREATE INDEX "grant_audit_tenant_grant_id_id_idx" ON "delegation"."grant_audit"("tenant", "grant_id", "id");

-- CreateIndex
CREATE UNIQUE INDEX "outbox_event_id_key" ON "delegation"."outbox_event"("id");

-- CreateIndex
CREATE INDEX "outbox_event_pending_idx" ON "delegation"."outbox_event"("seq") WHERE (published_at IS NULL);

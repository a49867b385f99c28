-- AlterTable
ALTER TABLE "token"."oauth_client" ADD COLUMN     "jwks" JSONB;

-- AlterTable
ALTER TABLE "token"."refresh_token_family" ALTER COLUMN "session_id" DROP NOT NULL;

-- CreateTable
CREATE TABLE "token"."device_code" (
    "device_code_hash" TEXT NOT NULL,
    "tenant" TEXT NOT NULL,
    "user_code_hash" TEXT NOT NULL,
    "client_id" TEXT NOT NULL,
    "scopes" TEXT[],
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "interval_seconds" INTEGER NOT NULL,
    "last_polled_at" TIMESTAMPTZ(3),
    "status" TEXT NOT NULL,
    "decided_at" TIMESTAMPTZ(3),
    "user_id" TEXT,
    "auth_time" INTEGER,
    "amr" TEXT[],
    "acr" TEXT,
    "session_id" TEXT,
    "consumed_at" TIMESTAMPTZ(3),
    "access_token_jti" TEXT,
    "access_token_expires_at" TIMESTAMPTZ(3),
    "refresh_family_id" TEXT,

    CONSTRAINT "device_code_pkey" PRIMARY KEY ("device_code_hash")
);

-- CreateTable
CREATE TABLE "token"."user_code_failure" (
    "tenant" TEXT NOT NULL,
    "client_ip" TEXT NOT NULL,
    "failures" INTEGER NOT NULL,
    "window_started_at" TIMESTAMPTZ(3) NOT NULL,
    "locked_until" TIMESTAMPTZ(3),

    CONSTRAINT "user_code_failure_pkey" PRIMARY KEY ("tenant","client_ip")
);

-- CreateTable
CREATE TABLE "token"."client_assertion_jti" (
    "tenant" TEXT NOT NULL,
    "client_id" TEXT NOT NULL,
    "jti" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "client_assertion_jti_pkey" PRIMARY KEY ("tenant","client_id","jti")
);

-- CreateIndex
CREATE INDEX "device_code_expires_at_idx" ON "token"."device_code"("expires_at");

-- CreateIndex
CREATE UNIQUE INDEX "device_code_tenant_user_code_hash_key" ON "token"."device_code"("tenant", "user_code_hash");

-- CreateIndex
CREATE INDEX "user_code_failure_window_started_at_idx" ON "token"."user_code_failure"("window_started_at");

-- CreateIndex
CREATE INDEX "client_assertion_jti_expires_at_idx" ON "token"."client_assertion_jti"("expires_at");

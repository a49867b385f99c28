-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "token";

-- CreateTable
CREATE TABLE "token"."oauth_client" (
    "tenant" TEXT NOT NULL,
    "client_id" TEXT NOT NULL,
    "display_name" TEXT,
    "secret_hash" TEXT,
    "auth_methods" TEXT[],
    "grant_types" TEXT[],
    "scopes" TEXT[],
    "redirect_uris" TEXT[],
    "access_token_ttl_seconds" INTEGER,
    "managed_by" TEXT NOT NULL DEFAULT 'api',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "oauth_client_pkey" PRIMARY KEY ("tenant","client_id")
);

-- CreateTable
CREATE TABLE "token"."signing_key" (
    "kid" TEXT NOT NULL,
    "tenant" TEXT NOT NULL,
    "alg" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "public_jwk" JSONB NOT NULL,
    "private_key_ciphertext" BYTEA NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "retired_at" TIMESTAMPTZ(3),
    "publish_until" TIMESTAMPTZ(3),

    CONSTRAINT "signing_key_pkey" PRIMARY KEY ("kid")
);

-- CreateTable
CREATE TABLE "token"."revoked_token" (
    "tenant" TEXT NOT NULL,
    "jti" TEXT NOT NULL,
    "client_id" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "revoked_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "revoked_token_pkey" PRIMARY KEY ("tenant","jti")
);

-- CreateIndex
CREATE INDEX "signing_key_tenant_status_idx" ON "token"."signing_key"("tenant", "status");

-- CreateIndex
CREATE INDEX "revoked_token_expires_at_idx" ON "token"."revoked_token"("expires_at");

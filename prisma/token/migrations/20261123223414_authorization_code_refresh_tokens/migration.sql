-- AlterTable
ALTER TABLE "token"."oauth_client" ADD COLUMN     "id_token_signed_response_alg" TEXT NOT NULL DEFAULT 'ES256',
ADD COLUMN     "refresh_token_absolute_lifetime_seconds" INTEGER,
ADD COLUMN     "refresh_token_idle_lifetime_seconds" INTEGER;

-- CreateTable
CREATE TABLE "token"."authorization_interaction" (
    "id_hash" TEXT NOT NULL,
    "tenant" TEXT NOT NULL,
    "client_id" TEXT NOT NULL,
    "request" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "completed_at" TIMESTAMPTZ(3),

    CONSTRAINT "authorization_interaction_pkey" PRIMARY KEY ("id_hash")
);

-- CreateTable
CREATE TABLE "token"."authorization_code" (
    "code_hash" TEXT NOT NULL,
    "tenant" TEXT NOT NULL,
    "client_id" TEXT NOT NULL,
    "redirect_uri" TEXT NOT NULL,
    "redirect_uri_sent" BOOLEAN NOT NULL,
    "code_challenge" TEXT NOT NULL,
    "nonce" TEXT,
    "scopes" TEXT[],
    "user_id" TEXT NOT NULL,
    "auth_time" INTEGER NOT NULL,
    "amr" TEXT[],
    "acr" TEXT NOT NULL,
    "session_id" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "consumed_at" TIMESTAMPTZ(3),
    "access_token_jti" TEXT,
    "access_token_expires_at" TIMESTAMPTZ(3),
    "refresh_family_id" TEXT,

    CONSTRAINT "authorization_code_pkey" PRIMARY KEY ("code_hash")
);

-- CreateTable
CREATE TABLE "token"."consent" (
    "tenant" TEXT NOT NULL,
    "client_id" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "scopes" TEXT[],
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "consent_pkey" PRIMARY KEY ("tenant","client_id","user_id")
);

-- CreateTable
CREATE TABLE "token"."refresh_token_family" (
    "id" TEXT NOT NULL,
    "tenant" TEXT NOT NULL,
    "client_id" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "scopes" TEXT[],
    "auth_time" INTEGER NOT NULL,
    "amr" TEXT[],
    "acr" TEXT NOT NULL,
    "session_id" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "absolute_expires_at" TIMESTAMPTZ(3) NOT NULL,
    "revoked_at" TIMESTAMPTZ(3),
    "revoked_reason" TEXT,

    CONSTRAINT "refresh_token_family_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "token"."refresh_token" (
    "token_hash" TEXT NOT NULL,
    "family_id" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "idle_expires_at" TIMESTAMPTZ(3) NOT NULL,
    "used_at" TIMESTAMPTZ(3),
    "access_token_jti" TEXT NOT NULL,
    "access_token_expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "refresh_token_pkey" PRIMARY KEY ("token_hash")
);

-- CreateIndex
CREATE INDEX "authorization_interaction_expires_at_idx" ON "token"."authorization_interaction"("expires_at");

-- CreateIndex
CREATE INDEX "authorization_code_expires_at_idx" ON "token"."authorization_code"("expires_at");

-- CreateIndex
CREATE INDEX "refresh_token_family_tenant_client_id_user_id_idx" ON "token"."refresh_token_family"("tenant", "client_id", "user_id");

-- CreateIndex
CREATE INDEX "refresh_token_family_absolute_expires_at_idx" ON "token"."refresh_token_family"("absolute_expires_at");

-- CreateIndex
CREATE INDEX "refresh_token_family_id_idx" ON "token"."refresh_token"("family_id");

-- AddForeignKey
ALTER TABLE "token"."refresh_token" ADD CONSTRAINT "refresh_token_family_id_fkey" FOREIGN KEY ("family_id") REFERENCES "token"."refresh_token_family"("id") ON DELETE CASCADE ON UPDATE CASCADE;

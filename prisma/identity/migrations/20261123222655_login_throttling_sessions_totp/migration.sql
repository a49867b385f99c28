-- CreateTable
CREATE TABLE "identity"."login_throttle" (
    "tenant" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "failures" INTEGER NOT NULL DEFAULT 0,
    "window_started_at" TIMESTAMPTZ(3) NOT NULL,
    "locked_until" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "login_throttle_pkey" PRIMARY KEY ("tenant","kind","key")
);

-- CreateTable
CREATE TABLE "identity"."session" (
    "id_hash" TEXT NOT NULL,
    "tenant" TEXT NOT NULL,
    "user_id" UUID NOT NULL,
    "amr" TEXT[],
    "acr" TEXT NOT NULL,
    "auth_time" TIMESTAMPTZ(3) NOT NULL,
    "last_seen_at" TIMESTAMPTZ(3) NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "session_pkey" PRIMARY KEY ("id_hash")
);

-- CreateTable
CREATE TABLE "identity"."totp_credential" (
    "user_id" UUID NOT NULL,
    "tenant" TEXT NOT NULL,
    "secret_ciphertext" BYTEA NOT NULL,
    "confirmed_at" TIMESTAMPTZ(3),
    "last_used_step" INTEGER,
    "created_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "totp_credential_pkey" PRIMARY KEY ("user_id")
);

-- CreateIndex
CREATE INDEX "login_throttle_updated_at_idx" ON "identity"."login_throttle"("updated_at");

-- CreateIndex
CREATE INDEX "session_tenant_user_id_idx" ON "identity"."session"("tenant", "user_id");

-- CreateIndex
CREATE INDEX "session_expires_at_idx" ON "identity"."session"("expires_at");

-- CreateIndex
CREATE INDEX "totp_credential_tenant_idx" ON "identity"."totp_credential"("tenant");

-- AddForeignKey
ALTER TABLE "identity"."session" ADD CONSTRAINT "session_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "identity"."user"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "identity"."totp_credential" ADD CONSTRAINT "totp_credential_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "identity"."user"("id") ON DELETE CASCADE ON UPDATE CASCADE;

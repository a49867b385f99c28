-- CreateIndex
CREATE INDEX "refresh_token_family_tenant_user_id_idx" ON "token"."refresh_token_family"("tenant", "user_id");

-- CreateIndex
CREATE INDEX "consent_tenant_user_id_idx" ON "token"."consent"("tenant", "user_id");

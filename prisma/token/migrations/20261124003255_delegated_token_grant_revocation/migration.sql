-- CreateTable
CREATE TABLE "token"."grant_revocation" (
    "tenant" TEXT NOT NULL,
    "grant_id" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "ended_at" TIMESTAMPTZ(3) NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "grant_revocation_pkey" PRIMARY KEY ("tenant","grant_id")
);

-- CreateIndex
CREATE INDEX "grant_revocation_expires_at_idx" ON "token"."grant_revocation"("expires_at");

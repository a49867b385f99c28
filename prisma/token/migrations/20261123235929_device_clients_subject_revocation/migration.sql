-- AlterTable
ALTER TABLE "token"."device_code" ADD COLUMN     "device_type" TEXT;

-- CreateTable
CREATE TABLE "token"."subject_revocation" (
    "tenant" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "revoked_before" TIMESTAMPTZ(3) NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "subject_revocation_pkey" PRIMARY KEY ("tenant","subject")
);

-- CreateIndex
CREATE INDEX "subject_revocation_expires_at_idx" ON "token"."subject_revocation"("expires_at");

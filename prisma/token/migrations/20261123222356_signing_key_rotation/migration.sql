-- AlterTable
ALTER TABLE "token"."signing_key" ADD COLUMN     "activates_at" TIMESTAMPTZ(3),
ADD COLUMN     "rotation_reason" TEXT;

-- Keys created before rotation existed started signing when they were created.
UPDATE "token"."signing_key" SET "activates_at" = "created_at" WHERE "activates_at" IS NULL;

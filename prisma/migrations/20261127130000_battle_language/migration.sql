-- AlterTable
ALTER TABLE "battles" ADD COLUMN     "language" TEXT,
ADD COLUMN     "source" TEXT;


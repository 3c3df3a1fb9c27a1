-- Offline models: no engine, their answers come from imported answer sets (one version per
-- committed import), and imported answers are generations that name their answer set.

-- AlterEnum
ALTER TYPE "ModelKind" ADD VALUE 'offline';

-- AlterTable
ALTER TABLE "generations" ADD COLUMN     "answerSetId" TEXT;

-- CreateTable
CREATE TABLE "answer_sets" (
    "id" TEXT NOT NULL,
    "modelId" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "source" JSONB NOT NULL DEFAULT '{}',
    "rowCount" INTEGER NOT NULL,
    "createdBy" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "answer_sets_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "answer_sets_modelId_version_key" ON "answer_sets"("modelId", "version");

-- CreateIndex
CREATE INDEX "generations_answerSetId_idx" ON "generations"("answerSetId");

-- AddForeignKey
ALTER TABLE "answer_sets" ADD CONSTRAINT "answer_sets_modelId_fkey" FOREIGN KEY ("modelId") REFERENCES "models"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "generations" ADD CONSTRAINT "generations_answerSetId_fkey" FOREIGN KEY ("answerSetId") REFERENCES "answer_sets"("id") ON DELETE SET NULL ON UPDATE CASCADE;

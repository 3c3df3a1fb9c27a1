-- Multi-turn bank questions: a question may hold every user turn (turns, null for one turn),
-- and a bank answer names its turn and the previous turn's answer (one next turn per answer).

-- AlterTable
ALTER TABLE "questions" ADD COLUMN     "turns" JSONB;

-- AlterTable
ALTER TABLE "generations" ADD COLUMN     "parentId" TEXT,
ADD COLUMN     "turn" INTEGER NOT NULL DEFAULT 0;

-- CreateIndex
CREATE UNIQUE INDEX "generations_parentId_key" ON "generations"("parentId");

-- AddForeignKey
ALTER TABLE "generations" ADD CONSTRAINT "generations_parentId_fkey" FOREIGN KEY ("parentId") REFERENCES "generations"("id") ON DELETE SET NULL ON UPDATE CASCADE;

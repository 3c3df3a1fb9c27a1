-- AI-judge runs: a judge model compares contestants bank answers. Each judgement is a
-- generation of the judge (purpose judge), and the run keeps its summary once complete.

-- AlterEnum
ALTER TYPE "GenerationPurpose" ADD VALUE 'judge';

-- CreateEnum
CREATE TYPE "JudgeTemplateKind" AS ENUM ('pairwise', 'score10', 'custom');

-- CreateEnum
CREATE TYPE "JudgeOutputKind" AS ENUM ('pairwise', 'score10');

-- CreateEnum
CREATE TYPE "JudgeOrder" AS ENUM ('XY', 'YX');

-- CreateEnum
CREATE TYPE "JudgeVerdict" AS ENUM ('A', 'B', 'tie');

-- CreateTable
CREATE TABLE "judge_runs" (
    "id" TEXT NOT NULL,
    "version" SERIAL NOT NULL,
    "judgeModelId" TEXT NOT NULL,
    "contestantIds" TEXT[],
    "categoryIds" TEXT[],
    "template" "JudgeTemplateKind" NOT NULL,
    "customTemplate" TEXT,
    "outputKind" "JudgeOutputKind" NOT NULL,
    "lang" TEXT NOT NULL DEFAULT 'zh',
    "status" "PregenStatus" NOT NULL DEFAULT 'running',
    "createdBy" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finishedAt" TIMESTAMP(3),
    "summary" JSONB,

    CONSTRAINT "judge_runs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "judgements" (
    "id" TEXT NOT NULL,
    "runId" TEXT NOT NULL,
    "questionId" TEXT NOT NULL,
    "modelXId" TEXT NOT NULL,
    "modelYId" TEXT NOT NULL,
    "order" "JudgeOrder" NOT NULL,
    "generationId" TEXT NOT NULL,
    "verdict" "JudgeVerdict",
    "scores" JSONB,
    "reason" TEXT,
    "error" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "judgements_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "judge_runs_version_key" ON "judge_runs"("version");

-- CreateIndex
CREATE INDEX "judge_runs_createdAt_idx" ON "judge_runs"("createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "judgements_generationId_key" ON "judgements"("generationId");

-- CreateIndex
CREATE UNIQUE INDEX "judgements_runId_questionId_modelXId_modelYId_order_key" ON "judgements"("runId", "questionId", "modelXId", "modelYId", "order");

-- AddForeignKey
ALTER TABLE "judge_runs" ADD CONSTRAINT "judge_runs_judgeModelId_fkey" FOREIGN KEY ("judgeModelId") REFERENCES "models"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "judgements" ADD CONSTRAINT "judgements_runId_fkey" FOREIGN KEY ("runId") REFERENCES "judge_runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "judgements" ADD CONSTRAINT "judgements_questionId_fkey" FOREIGN KEY ("questionId") REFERENCES "questions"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "judgements" ADD CONSTRAINT "judgements_generationId_fkey" FOREIGN KEY ("generationId") REFERENCES "generations"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

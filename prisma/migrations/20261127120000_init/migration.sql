-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "Role" AS ENUM ('admin', 'voter');

-- CreateEnum
CREATE TYPE "ModelKind" AS ENUM ('local', 'openai');

-- CreateEnum
CREATE TYPE "ModelStatus" AS ENUM ('active', 'disabled', 'retired');

-- CreateEnum
CREATE TYPE "GenerationStatus" AS ENUM ('queued', 'running', 'completed', 'failed', 'cancelled');

-- CreateEnum
CREATE TYPE "GenerationPurpose" AS ENUM ('live', 'pregen', 'test');

-- CreateEnum
CREATE TYPE "BattleMode" AS ENUM ('bank', 'live', 'named');

-- CreateEnum
CREATE TYPE "BattleStatus" AS ENUM ('pending', 'ready', 'voted', 'abandoned');

-- CreateEnum
CREATE TYPE "Side" AS ENUM ('A', 'B');

-- CreateEnum
CREATE TYPE "VoteWinner" AS ENUM ('A', 'B', 'tie', 'both_bad');

-- CreateEnum
CREATE TYPE "PregenStatus" AS ENUM ('running', 'completed', 'cancelled');

-- CreateTable
CREATE TABLE "users" (
    "id" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "name" TEXT,
    "passwordHash" TEXT NOT NULL,
    "role" "Role" NOT NULL DEFAULT 'voter',
    "disabled" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastLoginAt" TIMESTAMP(3),

    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "models" (
    "id" TEXT NOT NULL,
    "slug" TEXT NOT NULL,
    "displayName" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "organisation" TEXT NOT NULL DEFAULT '',
    "licence" TEXT NOT NULL DEFAULT '',
    "link" TEXT NOT NULL DEFAULT '',
    "kind" "ModelKind" NOT NULL,
    "status" "ModelStatus" NOT NULL DEFAULT 'active',
    "battleWeight" DOUBLE PRECISION NOT NULL DEFAULT 1,
    "engine" JSONB NOT NULL DEFAULT '{}',
    "apiKeyEncrypted" TEXT,
    "generationDefaults" JSONB NOT NULL DEFAULT '{}',
    "elo" DOUBLE PRECISION NOT NULL DEFAULT 1000,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "models_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "categories" (
    "id" TEXT NOT NULL,
    "slug" TEXT NOT NULL,
    "nameZh" TEXT NOT NULL,
    "nameEn" TEXT NOT NULL,
    "sortOrder" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "categories_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "questions" (
    "id" TEXT NOT NULL,
    "externalId" TEXT,
    "text" TEXT NOT NULL,
    "textHash" TEXT NOT NULL,
    "categoryId" TEXT NOT NULL,
    "language" TEXT NOT NULL DEFAULT 'zh',
    "tags" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "active" BOOLEAN NOT NULL DEFAULT true,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "questions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "generations" (
    "id" TEXT NOT NULL,
    "modelId" TEXT NOT NULL,
    "questionId" TEXT,
    "purpose" "GenerationPurpose" NOT NULL,
    "messages" JSONB NOT NULL,
    "params" JSONB NOT NULL DEFAULT '{}',
    "paramsHash" TEXT NOT NULL DEFAULT '',
    "status" "GenerationStatus" NOT NULL DEFAULT 'queued',
    "text" TEXT NOT NULL DEFAULT '',
    "promptTokens" INTEGER,
    "completionTokens" INTEGER,
    "ttftMs" INTEGER,
    "durationMs" INTEGER,
    "error" TEXT,
    "pregenRunId" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "generations_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "battles" (
    "id" TEXT NOT NULL,
    "mode" "BattleMode" NOT NULL,
    "questionId" TEXT,
    "categoryId" TEXT,
    "prompt" JSONB,
    "modelAId" TEXT NOT NULL,
    "modelBId" TEXT NOT NULL,
    "voterKey" TEXT NOT NULL,
    "userId" TEXT,
    "ipHash" TEXT NOT NULL,
    "status" "BattleStatus" NOT NULL DEFAULT 'pending',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "battles_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "battle_generations" (
    "battleId" TEXT NOT NULL,
    "side" "Side" NOT NULL,
    "turn" INTEGER NOT NULL DEFAULT 0,
    "generationId" TEXT NOT NULL,

    CONSTRAINT "battle_generations_pkey" PRIMARY KEY ("battleId","side","turn")
);

-- CreateTable
CREATE TABLE "votes" (
    "id" TEXT NOT NULL,
    "battleId" TEXT NOT NULL,
    "winner" "VoteWinner" NOT NULL,
    "reason" TEXT,
    "voterKey" TEXT NOT NULL,
    "userId" TEXT,
    "ipHash" TEXT NOT NULL,
    "rated" BOOLEAN NOT NULL DEFAULT true,
    "valid" BOOLEAN NOT NULL DEFAULT true,
    "invalidReason" TEXT,
    "modelAId" TEXT NOT NULL,
    "modelBId" TEXT NOT NULL,
    "categoryId" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "votes_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "rating_runs" (
    "id" TEXT NOT NULL,
    "version" SERIAL NOT NULL,
    "method" TEXT NOT NULL,
    "params" JSONB NOT NULL,
    "battleSetHash" TEXT NOT NULL,
    "seed" INTEGER NOT NULL,
    "voteCount" INTEGER NOT NULL,
    "results" JSONB NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "rating_runs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "pregen_runs" (
    "id" TEXT NOT NULL,
    "modelId" TEXT NOT NULL,
    "spec" JSONB NOT NULL,
    "status" "PregenStatus" NOT NULL DEFAULT 'running',
    "total" INTEGER NOT NULL DEFAULT 0,
    "createdBy" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "pregen_runs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_logs" (
    "id" TEXT NOT NULL,
    "actorId" TEXT,
    "action" TEXT NOT NULL,
    "targetType" TEXT NOT NULL,
    "targetId" TEXT,
    "before" JSONB,
    "after" JSONB,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "audit_logs_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "users_email_key" ON "users"("email");

-- CreateIndex
CREATE UNIQUE INDEX "models_slug_key" ON "models"("slug");

-- CreateIndex
CREATE INDEX "models_status_idx" ON "models"("status");

-- CreateIndex
CREATE UNIQUE INDEX "categories_slug_key" ON "categories"("slug");

-- CreateIndex
CREATE UNIQUE INDEX "questions_externalId_key" ON "questions"("externalId");

-- CreateIndex
CREATE UNIQUE INDEX "questions_textHash_key" ON "questions"("textHash");

-- CreateIndex
CREATE INDEX "questions_active_categoryId_idx" ON "questions"("active", "categoryId");

-- CreateIndex
CREATE INDEX "questions_categoryId_idx" ON "questions"("categoryId");

-- CreateIndex
CREATE INDEX "generations_questionId_modelId_status_idx" ON "generations"("questionId", "modelId", "status");

-- CreateIndex
CREATE INDEX "generations_modelId_status_idx" ON "generations"("modelId", "status");

-- CreateIndex
CREATE INDEX "generations_pregenRunId_status_idx" ON "generations"("pregenRunId", "status");

-- CreateIndex
CREATE INDEX "battles_voterKey_createdAt_idx" ON "battles"("voterKey", "createdAt");

-- CreateIndex
CREATE INDEX "battles_modelAId_modelBId_idx" ON "battles"("modelAId", "modelBId");

-- CreateIndex
CREATE INDEX "battles_questionId_idx" ON "battles"("questionId");

-- CreateIndex
CREATE INDEX "battles_createdAt_idx" ON "battles"("createdAt");

-- CreateIndex
CREATE INDEX "battle_generations_generationId_idx" ON "battle_generations"("generationId");

-- CreateIndex
CREATE UNIQUE INDEX "votes_battleId_key" ON "votes"("battleId");

-- CreateIndex
CREATE INDEX "votes_valid_rated_createdAt_idx" ON "votes"("valid", "rated", "createdAt");

-- CreateIndex
CREATE INDEX "votes_voterKey_createdAt_idx" ON "votes"("voterKey", "createdAt");

-- CreateIndex
CREATE INDEX "votes_ipHash_createdAt_idx" ON "votes"("ipHash", "createdAt");

-- CreateIndex
CREATE INDEX "votes_modelAId_modelBId_idx" ON "votes"("modelAId", "modelBId");

-- CreateIndex
CREATE UNIQUE INDEX "rating_runs_version_key" ON "rating_runs"("version");

-- CreateIndex
CREATE INDEX "rating_runs_createdAt_idx" ON "rating_runs"("createdAt");

-- CreateIndex
CREATE INDEX "pregen_runs_modelId_createdAt_idx" ON "pregen_runs"("modelId", "createdAt");

-- CreateIndex
CREATE INDEX "audit_logs_createdAt_idx" ON "audit_logs"("createdAt");

-- CreateIndex
CREATE INDEX "audit_logs_targetType_targetId_idx" ON "audit_logs"("targetType", "targetId");

-- AddForeignKey
ALTER TABLE "questions" ADD CONSTRAINT "questions_categoryId_fkey" FOREIGN KEY ("categoryId") REFERENCES "categories"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "generations" ADD CONSTRAINT "generations_modelId_fkey" FOREIGN KEY ("modelId") REFERENCES "models"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "generations" ADD CONSTRAINT "generations_questionId_fkey" FOREIGN KEY ("questionId") REFERENCES "questions"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "generations" ADD CONSTRAINT "generations_pregenRunId_fkey" FOREIGN KEY ("pregenRunId") REFERENCES "pregen_runs"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "battles" ADD CONSTRAINT "battles_questionId_fkey" FOREIGN KEY ("questionId") REFERENCES "questions"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "battles" ADD CONSTRAINT "battles_categoryId_fkey" FOREIGN KEY ("categoryId") REFERENCES "categories"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "battles" ADD CONSTRAINT "battles_modelAId_fkey" FOREIGN KEY ("modelAId") REFERENCES "models"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "battles" ADD CONSTRAINT "battles_modelBId_fkey" FOREIGN KEY ("modelBId") REFERENCES "models"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "battle_generations" ADD CONSTRAINT "battle_generations_battleId_fkey" FOREIGN KEY ("battleId") REFERENCES "battles"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "battle_generations" ADD CONSTRAINT "battle_generations_generationId_fkey" FOREIGN KEY ("generationId") REFERENCES "generations"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "votes" ADD CONSTRAINT "votes_battleId_fkey" FOREIGN KEY ("battleId") REFERENCES "battles"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "pregen_runs" ADD CONSTRAINT "pregen_runs_modelId_fkey" FOREIGN KEY ("modelId") REFERENCES "models"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "audit_logs" ADD CONSTRAINT "audit_logs_actorId_fkey" FOREIGN KEY ("actorId") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;


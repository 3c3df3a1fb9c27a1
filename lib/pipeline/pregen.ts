import type { PregenRun, Prisma } from "@prisma/client";
import { db } from "../db";
import { errors } from "../errors";
import { enqueueGenerations, generationRowOf, paramsHash } from "../generations";
import { generationParamsOf } from "../models/engine";
import { cancelGeneration } from "./cancel";
import type { PregenScope, PregenSpec } from "./contracts";
import { cancelQueuedOfRun, retryGenerations } from "./generation-state";
import { generationQueue, PENDING_JOB_STATES, pregenQueue, queuesReachable } from "./queues";

// Pre-generation: answer bank questions with one model ahead of time, so bank battles are
// instant. startPregen records the run and queues a fan-out job; a worker creates one
// low-priority generation per question that lacks an answer with the same params. A multi-turn
// question gets its first turn's generation here; each completed turn queues the next one
// (next-turn.ts: the worker on completion, else the reconciler), in the same run, so a run's
// progress counts every turn as it is created and the run settles after the last one.

const FAN_OUT_BATCH = 500;

export type StartPregen = {
  modelId: string;
  scope: PregenScope;
  categoryId?: string;
  questionIds?: string[];
  createdBy?: string | null;
};

export async function startPregen(input: StartPregen): Promise<PregenRun> {
  const model = await db.model.findUnique({ where: { id: input.modelId } });
  if (!model) throw errors.notFound("model");
  if (model.kind === "offline") throw errors.conflict("pregen", { key: "pregenOfflineModel", values: { model: model.slug } });
  if (model.status !== "active") throw errors.conflict("pregen", { key: "pregenModelInactive" });
  if (input.scope === "category" && !input.categoryId) throw errors.badRequest("pregen", { key: "pregenPickCategory" }, "categoryId");
  if (input.scope === "ids" && !input.questionIds?.length) throw errors.badRequest("pregen", { key: "pregenPickQuestions" }, "questionIds");
  // Redis away: a 503 now, and no run recorded that an admin would start again. A run whose
  // fan-out job is lost after it was queued (Redis wiped) is restarted by the reconciler.
  await queuesReachable();
  const params = generationParamsOf(model.generationDefaults);
  const spec: PregenSpec = {
    scope: input.scope,
    ...(input.scope === "category" ? { categoryId: input.categoryId } : {}),
    ...(input.scope === "ids" ? { questionIds: [...new Set(input.questionIds)] } : {}),
    params,
    paramsHash: paramsHash(params),
  };
  const run = await db.pregenRun.create({
    data: { modelId: model.id, spec: spec as unknown as Prisma.InputJsonValue, createdBy: input.createdBy ?? null },
  });
  try {
    await pregenQueue().add("fan-out", { runId: run.id }, { jobId: run.id });
  } catch (error) {
    // Redis went away after the check: take the run back, so the admin's retry leaves no second
    // one, unless its fan-out ran all the same (a timed-out add may still have landed). The row
    // lock waits for a fan-out inserting answers under the run (their foreign key locks it too).
    await db.$transaction(async (tx) => {
      await tx.$queryRaw`SELECT id FROM pregen_runs WHERE id = ${run.id} FOR UPDATE`;
      await tx.pregenRun.deleteMany({ where: { id: run.id, generations: { none: {} } } });
    }).catch(() => undefined);
    throw error;
  }
  return run;
}

/** Questions of the run's scope that still need an answer from this model with these params. */
async function questionsToAnswer(runId: string, modelId: string, spec: PregenSpec): Promise<string[]> {
  const where = scopeOf(spec);
  const answered: Prisma.GenerationWhereInput =
    spec.scope === "missing"
      ? { modelId, status: { in: ["completed", "queued", "running"] } }
      : {
          modelId,
          OR: [
            { status: "completed", paramsHash: spec.paramsHash },
            { status: { in: ["queued", "running"] }, paramsHash: spec.paramsHash },
            { pregenRunId: runId },
          ],
        };
  where.generations = { none: answered };
  const rows = await db.question.findMany({ where, select: { id: true, text: true }, orderBy: { createdAt: "asc" } });
  // A question back in rotation needs answers finished after it came back: the older ones were
  // published, so never served in a rated battle again (nor is a new one with the same text, as
  // a greedy model gives: matchmaking compares texts).
  const returned = await db.question.findMany({
    where: { ...scopeOf(spec), answersPublishedUntil: { not: null } },
    select: { id: true, answersPublishedUntil: true, generations: { where: { modelId }, select: { status: true, finishedAt: true, pregenRunId: true } } },
    orderBy: { createdAt: "asc" },
  });
  const stale = returned.filter((q) => !q.generations.some((g) =>
    g.status === "queued" || g.status === "running" || g.pregenRunId === runId ||
    (g.status === "completed" && g.finishedAt !== null && g.finishedAt > q.answersPublishedUntil!)));
  return [...new Set([...rows.map((r) => r.id), ...stale.map((q) => q.id)])];
}

function scopeOf(spec: PregenSpec): Prisma.QuestionWhereInput {
  const where: Prisma.QuestionWhereInput = { active: true };
  if (spec.scope === "category") where.categoryId = spec.categoryId;
  if (spec.scope === "ids") where.id = { in: spec.questionIds ?? [] };
  return where;
}

/**
 * Unfinished answers of earlier runs to this run's questions become this run's: the run counts
 * them (it is not done before they are) and makes sure each has a job.
 */
async function adoptOpenAnswers(run: PregenRun, spec: PregenSpec): Promise<number> {
  const open = await db.generation.findMany({
    where: {
      modelId: run.modelId,
      purpose: "pregen",
      status: { in: ["queued", "running"] },
      // Only from runs started before this one: a restarted older fan-out must not take a newer run's answers.
      pregenRun: { id: { not: run.id }, createdAt: { lt: run.createdAt } },
      ...(spec.scope === "missing" ? {} : { paramsHash: spec.paramsHash }),
      question: scopeOf(spec),
    },
    select: { id: true, pregenRunId: true },
  });
  if (!open.length) return 0;
  const adopted = await db.generation.updateManyAndReturn({
    where: { id: { in: open.map((g) => g.id) }, status: { in: ["queued", "running"] } },
    data: { pregenRunId: run.id },
  });
  await enqueueGenerations(adopted);
  for (const from of new Set(open.map((g) => g.pregenRunId))) if (from) await settlePregenRun(from);
  return adopted.length;
}

/** The PREGEN_QUEUE job. Safe to run twice: questions already in the run are skipped. */
export async function fanOutPregen(runId: string): Promise<number> {
  const run = await db.pregenRun.findUnique({ where: { id: runId } });
  if (!run || run.status !== "running") return 0;
  const spec = run.spec as unknown as PregenSpec;
  await adoptOpenAnswers(run, spec);
  const ids = await questionsToAnswer(run.id, run.modelId, spec);
  const texts = new Map((await db.question.findMany({ where: { id: { in: ids } }, select: { id: true, text: true } })).map((q) => [q.id, q.text]));
  let created = 0;
  for (let i = 0; i < ids.length; i += FAN_OUT_BATCH) {
    const rows = ids.slice(i, i + FAN_OUT_BATCH).map((questionId) =>
      generationRowOf({
        modelId: run.modelId,
        questionId,
        purpose: "pregen",
        messages: [{ role: "user", content: texts.get(questionId) ?? "" }],
        params: spec.params,
        pregenRunId: run.id,
      }),
    );
    const generations = await db.generation.createManyAndReturn({ data: rows });
    created += generations.length;
    await enqueueGenerations(generations);
  }
  await settlePregenRun(run.id, { fannedOut: true });
  return created;
}

export type PregenProgress = {
  status: PregenRun["status"];
  total: number;
  done: number;
  failed: number;
  cancelled: number;
  running: number;
  queued: number;
  tokensPerSecond: number;
  etaSeconds: number | null;
};

/**
 * Marks a running run completed once its fan-out is over and none of its generations is queued
 * or running. `fannedOut`: called by the fan-out job itself (still "active" in BullMQ).
 */
export async function settlePregenRun(runId: string, { fannedOut = false } = {}): Promise<void> {
  const open = await db.generation.count({ where: { pregenRunId: runId, status: { in: ["queued", "running"] } } });
  if (open > 0) return;
  if (!fannedOut) {
    const fanOut = await pregenQueue().getJob(runId);
    if (fanOut && PENDING_JOB_STATES.has(await fanOut.getState())) return;
  }
  await db.pregenRun.updateMany({ where: { id: runId, status: "running" }, data: { status: "completed", finishedAt: new Date() } });
}

export async function getPregenProgress(runId: string): Promise<PregenProgress> {
  const run = await db.pregenRun.findUnique({ where: { id: runId } });
  if (!run) throw errors.notFound("pregen_run");
  const groups = await db.generation.groupBy({
    by: ["status"],
    where: { pregenRunId: runId },
    _count: { _all: true },
  });
  const count = (status: string) => groups.find((g) => g.status === status)?._count._all ?? 0;
  const done = count("completed");
  const queued = count("queued");
  const running = count("running");
  const window = await db.generation.aggregate({
    where: { pregenRunId: runId, status: "completed" },
    _sum: { completionTokens: true },
    _min: { startedAt: true },
    _max: { finishedAt: true },
  });
  const first = window._min.startedAt?.getTime();
  const last = window._max.finishedAt?.getTime();
  const elapsedS = first && last && last > first ? (last - first) / 1000 : 0;
  const tokensPerSecond = elapsedS > 0 ? (window._sum.completionTokens ?? 0) / elapsedS : 0;
  const answersPerSecond = elapsedS > 0 ? done / elapsedS : 0;
  const remaining = queued + running;
  let status = run.status;
  if (status === "running" && remaining === 0) {
    // Catches a run whose last answer finished while its fan-out job was still closing.
    await settlePregenRun(runId);
    status = (await db.pregenRun.findUniqueOrThrow({ where: { id: runId }, select: { status: true } })).status;
  }
  return {
    status,
    // Counted, never kept: a run that adopts answers, or a fan-out cut short, cannot drift from it.
    total: groups.reduce((sum, g) => sum + g._count._all, 0),
    done,
    failed: count("failed"),
    cancelled: count("cancelled"),
    running,
    queued,
    tokensPerSecond,
    etaSeconds: remaining === 0 ? 0 : answersPerSecond > 0 ? Math.round(remaining / answersPerSecond) : null,
  };
}

export async function cancelPregen(runId: string): Promise<void> {
  const run = await db.pregenRun.findUnique({ where: { id: runId } });
  if (!run) throw errors.notFound("pregen_run");
  await db.pregenRun.updateMany({ where: { id: runId, status: "running" }, data: { status: "cancelled", finishedAt: new Date() } });
  await pregenQueue().remove(runId).catch(() => undefined);
  const queue = generationQueue(run.modelId, "pregen");
  const waiting = await db.generation.findMany({ where: { pregenRunId: runId, status: "queued" }, select: { id: true } });
  for (const { id } of waiting) await queue.remove(id).catch(() => undefined);
  await cancelQueuedOfRun(runId);
  const running = await db.generation.findMany({ where: { pregenRunId: runId, status: "running" }, select: { id: true } });
  for (const { id } of running) await cancelGeneration({ generationId: id });
}

/** Queues the run's failed generations again (same rows, fresh jobs). Returns how many. */
export async function retryFailed(runId: string): Promise<number> {
  const run = await db.pregenRun.findUnique({ where: { id: runId } });
  if (!run) throw errors.notFound("pregen_run");
  const failed = await db.generation.findMany({ where: { pregenRunId: runId, status: "failed" }, select: { id: true } });
  const retried = await retryGenerations(failed.map((g) => g.id));
  return retried.length;
}

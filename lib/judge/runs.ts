import { randomUUID } from "node:crypto";
import { Prisma, type JudgeRun } from "@prisma/client";
import { db } from "../db";
import { errors } from "../errors";
import { enqueueGenerations, generationRowOf } from "../generations";
import { generationParamsOf } from "../models/engine";
import { cancelGeneration } from "../pipeline/cancel";
import { CANCELLED } from "../pipeline/stream-log";
import { retryGenerations } from "../pipeline/generation-state";
import { judgeQueue, PENDING_JOB_STATES, queueOfGeneration, queuesReachable } from "../pipeline/queues";
import { userTurnsOf } from "../question-turns";
import { computeLeaderboard } from "../ratings/core/leaderboard";
import { summariseJudgeRun, type Agreement, type HumanVote, type Judgement as SummaryJudgement, type PairedScore, type PositionBias } from "./aggregate";
import { customTemplateSchema } from "../schemas/judge";
import { BUILTIN_TEMPLATES, customTemplate, type JudgeKind, type JudgeLang, type JudgeTemplate } from "./templates";
import { parseVerdict } from "./verdict";

// AI-judge runs (issue #26 point 4), on the pre-generation machinery: startJudgeRun records the
// run and queues a fan-out job; the worker creates, for every bank question in scope that each
// contestant of a pair has answered (every turn of a multi-turn question), one generation of the
// judge model per order (XY shows modelX as A, YX modelY). Judge generations have purpose judge,
// run on the judge model's pre-generation lane (live voters first), and keep questionId null —
// the question is on the judgement — so bank matchmaking never serves them and no battle or
// vote ever comes of them: judge verdicts never reach the human leaderboard.
//
// When a judge generation ends the worker records its verdict (recordJudgements, idempotent) and
// settles the run; the last one computes the summary. Progress is counted from PostgreSQL.
//
// A contestant may be the judge itself: the run is allowed (self-preference is something one may
// want to measure) and startJudgeRun returns a warning saying so.

const FAN_OUT_BATCH = 200;
const BOOTSTRAP_ROUNDS = 200;
const SEED = 42;

export type StartJudgeRun = {
  judgeModelId: string;
  contestantIds: string[];
  categoryIds?: string[];
  template: "pairwise" | "score10" | "custom";
  customTemplate?: string;
  /** custom only: the format the template asks for. */
  outputKind?: JudgeKind;
  lang?: JudgeLang;
  createdBy?: string | null;
};

/** Something the admin should know about a run they started, as the adminJudge section says it. */
export type JudgeRunWarning = { key: "selfJudge"; values: { model: string } };

export async function startJudgeRun(input: StartJudgeRun): Promise<{ run: JudgeRun; warnings: JudgeRunWarning[] }> {
  const judge = await db.model.findUnique({ where: { id: input.judgeModelId } });
  if (!judge) throw errors.notFound("model", { key: "judgeModelNotFound" });
  if (judge.kind === "offline") throw errors.conflict("judge", { key: "judgeOfflineModel", values: { model: judge.slug } });
  if (judge.status !== "active") throw errors.conflict("judge", { key: "judgeModelInactive" });
  const contestantIds = [...new Set(input.contestantIds)];
  if (contestantIds.length < 2) throw errors.badRequest("judge", { key: "judgeTwoContestants" }, "contestantIds");
  const found = await db.model.findMany({ where: { id: { in: contestantIds } }, select: { id: true } });
  if (found.length !== contestantIds.length) throw errors.badRequest("judge", { key: "judgeUnknownContestant" }, "contestantIds");
  const categoryIds = [...new Set(input.categoryIds ?? [])];
  if (categoryIds.length && (await db.category.count({ where: { id: { in: categoryIds } } })) !== categoryIds.length) {
    throw errors.badRequest("judge", { key: "judgeUnknownCategory" }, "categoryIds");
  }
  let outputKind: JudgeKind = input.template === "custom" ? (input.outputKind ?? "pairwise") : input.template;
  if (input.template === "custom") {
    // A ZodError: each problem on the customTemplate field, in the reader's language.
    customTemplateSchema.parse({ customTemplate: input.customTemplate ?? "", outputKind });
  } else {
    outputKind = input.template;
  }
  const warnings: JudgeRunWarning[] = contestantIds.includes(judge.id) ? [{ key: "selfJudge", values: { model: judge.displayName } }] : [];
  // As startPregen: a 503 with nothing recorded while Redis is away; the reconciler restarts a fan-out lost once queued.
  await queuesReachable();
  const run = await db.judgeRun.create({
    data: {
      judgeModelId: judge.id,
      contestantIds,
      categoryIds,
      template: input.template,
      customTemplate: input.template === "custom" ? input.customTemplate! : null,
      outputKind,
      lang: input.lang ?? "zh",
      createdBy: input.createdBy ?? null,
    },
  });
  try {
    await judgeQueue().add("fan-out", { runId: run.id }, { jobId: run.id });
  } catch (error) {
    // As startPregen: the run is taken back unless its fan-out ran all the same.
    await db.$transaction(async (tx) => {
      await tx.$queryRaw`SELECT id FROM judge_runs WHERE id = ${run.id} FOR UPDATE`;
      await tx.judgeRun.deleteMany({ where: { id: run.id, judgements: { none: {} } } });
    }).catch(() => undefined);
    throw error;
  }
  return { run, warnings };
}

function templateOf(run: Pick<JudgeRun, "template" | "customTemplate" | "outputKind">): JudgeTemplate {
  if (run.template === "custom") return customTemplate({ template: run.customTemplate ?? "", kind: run.outputKind });
  return BUILTIN_TEMPLATES[run.template];
}

type Answer = { id: string; parentId: string | null; turn: number; text: string; finishedAt: Date | null };

/** Per question, per contestant: the answers of the latest complete chain, one per user turn. */
async function answerChains(questionIds: string[], modelIds: string[], turnsOf: Map<string, number>): Promise<Map<string, string[]>> {
  const rows = await db.generation.findMany({
    where: { questionId: { in: questionIds }, modelId: { in: modelIds }, status: "completed" },
    select: { id: true, questionId: true, modelId: true, parentId: true, turn: true, text: true, finishedAt: true },
  });
  const byId = new Map<string, Answer>(rows.map((r) => [r.id, r]));
  const chains = new Map<string, { answers: string[]; at: number }>();
  for (const r of rows) {
    const turns = turnsOf.get(r.questionId!) ?? 1;
    if (r.turn !== turns - 1) continue;
    const answers: string[] = [];
    let g: Answer | undefined = r;
    for (let t = turns - 1; t >= 0; t--) {
      if (!g || g.turn !== t) break;
      answers.unshift(g.text);
      g = g.parentId ? byId.get(g.parentId) : undefined;
    }
    if (answers.length !== turns) continue;
    const key = `${r.questionId}\n${r.modelId}`;
    const at = r.finishedAt?.getTime() ?? 0;
    if ((chains.get(key)?.at ?? -1) < at) chains.set(key, { answers, at });
  }
  return new Map([...chains].map(([k, v]) => [k, v.answers]));
}

/** The JUDGE_QUEUE job. Safe to run twice: judgements already in the run are skipped. */
export async function fanOutJudgeRun(runId: string): Promise<number> {
  const run = await db.judgeRun.findUnique({ where: { id: runId }, include: { judgeModel: true } });
  if (!run || run.status !== "running") return 0;
  const template = templateOf(run);
  const params = generationParamsOf(run.judgeModel.generationDefaults);
  const lang: JudgeLang = run.lang === "en" ? "en" : "zh";
  const questions = await db.question.findMany({
    where: { active: true, ...(run.categoryIds.length ? { categoryId: { in: run.categoryIds } } : {}) },
    select: { id: true, text: true, turns: true },
    orderBy: { createdAt: "asc" },
  });
  const turnsOf = new Map(questions.map((q) => [q.id, userTurnsOf(q).length]));
  const chains = await answerChains(questions.map((q) => q.id), run.contestantIds, turnsOf);
  const existing = new Set(
    (await db.judgement.findMany({ where: { runId }, select: { questionId: true, modelXId: true, modelYId: true, order: true } }))
      .map((j) => [j.questionId, j.modelXId, j.modelYId, j.order].join("\n")),
  );
  type Planned = { questionId: string; modelXId: string; modelYId: string; order: "XY" | "YX"; row: Prisma.GenerationUncheckedCreateInput };
  const planned: Planned[] = [];
  for (const q of questions) {
    const turns = userTurnsOf(q);
    for (let i = 0; i < run.contestantIds.length; i++) {
      for (let k = i + 1; k < run.contestantIds.length; k++) {
        const x = run.contestantIds[i]!;
        const y = run.contestantIds[k]!;
        const ax = chains.get(`${q.id}\n${x}`);
        const ay = chains.get(`${q.id}\n${y}`);
        if (!ax || !ay) continue;
        for (const order of ["XY", "YX"] as const) {
          if (existing.has([q.id, x, y, order].join("\n"))) continue;
          const [answerA, answerB] = order === "XY" ? [ax, ay] : [ay, ax];
          const messages = template({ question: turns, answerA, answerB, lang });
          planned.push({ questionId: q.id, modelXId: x, modelYId: y, order, row: generationRowOf({ modelId: run.judgeModelId, purpose: "judge", messages, params }) });
        }
      }
    }
  }
  let created = 0;
  for (let i = 0; i < planned.length; i += FAN_OUT_BATCH) {
    const batch = planned.slice(i, i + FAN_OUT_BATCH);
    const generations = await db.$transaction(async (tx) => {
      // Ids chosen here, so each judgement names its generation without relying on RETURNING order.
      const ids = batch.map(() => randomUUID());
      const rows = await tx.generation.createManyAndReturn({ data: batch.map((p, n) => ({ ...p.row, id: ids[n] })) });
      await tx.judgement.createMany({
        data: batch.map((p, n) => ({ runId, questionId: p.questionId, modelXId: p.modelXId, modelYId: p.modelYId, order: p.order, generationId: ids[n]! })),
      });
      return rows;
    });
    created += generations.length;
    await enqueueGenerations(generations);
  }
  await settleJudgeRun(runId, { fannedOut: true });
  return created;
}

/**
 * Parses the output of every completed judge generation of these runs (or of these
 * generations) whose verdict is not stored yet. Idempotent: a judgement is written once.
 */
export async function recordJudgements(where: { runId?: string; generationId?: string }): Promise<number> {
  const open = await db.judgement.findMany({
    where: { ...where, verdict: null, error: null, generation: { status: "completed" } },
    select: { id: true, generation: { select: { text: true } }, run: { select: { outputKind: true } } },
  });
  let recorded = 0;
  for (const j of open) {
    const parsed = parseVerdict(j.run.outputKind, j.generation.text);
    const data: Prisma.JudgementUpdateManyMutationInput = "error" in parsed
      ? { error: parsed.error.slice(0, 2000) }
      : { verdict: parsed.verdict, reason: parsed.reason, ...(parsed.scores ? { scores: parsed.scores } : {}) };
    const { count } = await db.judgement.updateMany({ where: { id: j.id, verdict: null, error: null }, data });
    recorded += count;
  }
  return recorded;
}

/** Called by the worker when a judge generation ends, however it ended. */
export async function judgeGenerationEnded(generationId: string): Promise<void> {
  await recordJudgements({ generationId });
  const judgement = await db.judgement.findUnique({ where: { generationId }, select: { runId: true } });
  if (judgement) await settleJudgeRun(judgement.runId);
}

export type JudgeProgress = {
  status: JudgeRun["status"];
  total: number;
  done: number;
  failed: number;
  cancelled: number;
  running: number;
  queued: number;
  /** Done, but the output had no readable verdict. */
  unparseable: number;
};

export async function getJudgeProgress(runId: string): Promise<JudgeProgress> {
  const run = await db.judgeRun.findUnique({ where: { id: runId }, select: { status: true } });
  if (!run) throw errors.notFound("judge_run");
  const count = async (): Promise<JudgeProgress> => {
    const rows = await db.judgement.findMany({ where: { runId }, select: { error: true, generation: { select: { status: true } } } });
    const of = (status: string) => rows.filter((r) => r.generation.status === status).length;
    const { status } = await db.judgeRun.findUniqueOrThrow({ where: { id: runId }, select: { status: true } });
    return {
      status,
      total: rows.length,
      done: of("completed"),
      failed: of("failed"),
      cancelled: of("cancelled"),
      running: of("running"),
      queued: of("queued"),
      unparseable: rows.filter((r) => r.generation.status === "completed" && r.error !== null).length,
    };
  };
  const progress = await count();
  if (run.status !== "running" || progress.queued + progress.running > 0) return progress;
  // Catches a run whose last judgement finished while its fan-out job was still closing; settling
  // records the last verdicts, so count again.
  await settleJudgeRun(runId);
  return count();
}

export type JudgeLeaderboardRow = { modelId: string; rating: number; ciLow: number | null; ciHigh: number | null; rank: number; battles: number; wins: number };

/** JudgeRun.summary. */
export type JudgeRunReport = {
  judgements: number;
  leaderboard: JudgeLeaderboardRow[];
  positionBias: PositionBias[];
  positionBiasOverall: Omit<PositionBias, "first" | "second">;
  unparseable: { count: number; total: number; rate: number | null };
  pairedScores: PairedScore[];
  agreement: Agreement | null;
};

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** The summary of a run's recorded verdicts: judge leaderboard, bias, parse rate, agreement with human votes. */
export async function summariseRun(runId: string): Promise<JudgeRunReport> {
  const run = await db.judgeRun.findUniqueOrThrow({ where: { id: runId }, select: { contestantIds: true } });
  const rows = await db.judgement.findMany({
    where: { runId, generation: { status: "completed" } },
    orderBy: { createdAt: "asc" },
    select: { questionId: true, modelXId: true, modelYId: true, order: true, verdict: true, scores: true, question: { select: { category: { select: { slug: true } } } } },
  });
  const judgements: SummaryJudgement[] = rows.map((r) => ({
    questionId: r.questionId,
    category: r.question.category?.slug ?? null,
    modelX: r.modelXId,
    modelY: r.modelYId,
    order: r.order,
    verdict: r.verdict,
    ...(Array.isArray(r.scores) ? { scores: r.scores as [number, number] } : {}),
  }));
  const questionIds = [...new Set(rows.map((r) => r.questionId))];
  const votes = questionIds.length
    ? await db.vote.findMany({
        where: { valid: true, modelAId: { in: run.contestantIds }, modelBId: { in: run.contestantIds }, battle: { questionId: { in: questionIds } } },
        select: { modelAId: true, modelBId: true, winner: true, battle: { select: { questionId: true } } },
      })
    : [];
  const human: HumanVote[] = votes.map((v) => ({ questionId: v.battle.questionId!, modelA: v.modelAId, modelB: v.modelBId, winner: v.winner }));
  const summary = summariseJudgeRun(judgements, human);
  const board = summary.battles.length ? computeLeaderboard(summary.battles, { bootstrapRounds: BOOTSTRAP_ROUNDS, seed: SEED }) : null;
  return {
    judgements: judgements.length,
    leaderboard: (board?.models ?? []).map((m) => ({ modelId: m.model, rating: m.bt, ciLow: finite(m.ciLow), ciHigh: finite(m.ciHigh), rank: m.rank, battles: m.battles, wins: m.wins })),
    positionBias: summary.positionBias,
    positionBiasOverall: summary.positionBiasOverall,
    unparseable: summary.unparseable,
    pairedScores: summary.pairedScores,
    agreement: summary.agreement ?? null,
  };
}

/**
 * Completes a running run once its fan-out is over and none of its judge generations is queued
 * or running, storing its summary. `fannedOut`: called by the fan-out job itself.
 */
export async function settleJudgeRun(runId: string, { fannedOut = false } = {}): Promise<void> {
  const open = await db.judgement.count({ where: { runId, generation: { status: { in: ["queued", "running"] } } } });
  if (open > 0) return;
  if (!fannedOut) {
    const fanOut = await judgeQueue().getJob(runId);
    if (fanOut && PENDING_JOB_STATES.has(await fanOut.getState())) return;
  }
  const run = await db.judgeRun.findUnique({ where: { id: runId }, select: { status: true } });
  if (run?.status !== "running") return;
  await recordJudgements({ runId });
  const summary = await summariseRun(runId);
  await db.judgeRun.updateMany({
    where: { id: runId, status: "running" },
    data: { status: "completed", finishedAt: new Date(), summary: summary as unknown as Prisma.InputJsonValue },
  });
}

export async function cancelJudgeRun(runId: string): Promise<void> {
  const run = await db.judgeRun.findUnique({ where: { id: runId } });
  if (!run) throw errors.notFound("judge_run");
  await db.judgeRun.updateMany({ where: { id: runId, status: "running" }, data: { status: "cancelled", finishedAt: new Date() } });
  await judgeQueue().remove(runId).catch(() => undefined);
  const waiting = await db.generation.findMany({ where: { judgement: { runId }, status: "queued" }, select: { id: true, modelId: true, purpose: true } });
  for (const g of waiting) await queueOfGeneration(g).remove(g.id).catch(() => undefined);
  await db.generation.updateMany({
    where: { id: { in: waiting.map((g) => g.id) }, status: "queued" },
    data: { status: "cancelled", error: CANCELLED, finishedAt: new Date() },
  });
  const running = await db.generation.findMany({ where: { judgement: { runId }, status: "running" }, select: { id: true } });
  for (const { id } of running) await cancelGeneration({ generationId: id });
}

/** Queues the run's failed judgements again (same rows, fresh jobs) and reopens the run. Returns how many. */
export async function retryJudgeRun(runId: string): Promise<number> {
  const run = await db.judgeRun.findUnique({ where: { id: runId } });
  if (!run) throw errors.notFound("judge_run");
  const failed = await db.generation.findMany({ where: { judgement: { runId }, status: "failed" }, select: { id: true } });
  if (!failed.length) return 0;
  await db.judgeRun.update({ where: { id: runId }, data: { status: "running", finishedAt: null, summary: Prisma.DbNull } });
  const retried = await retryGenerations(failed.map((g) => g.id));
  await settleJudgeRun(runId, { fannedOut: true });
  return retried.length;
}

/** Running runs whose fan-out job is gone get it back (fanning out twice is safe), or settle. */
export async function reconcileJudgeRuns(before: Date): Promise<number> {
  const runs = await db.judgeRun.findMany({ where: { status: "running", createdAt: { lt: before } }, select: { id: true } });
  let restarted = 0;
  for (const { id } of runs) {
    const state = await judgeQueue().getJobState(id);
    if (PENDING_JOB_STATES.has(state)) continue;
    if (state === "completed" || state === "failed") {
      await settleJudgeRun(id, { fannedOut: true });
      continue;
    }
    await judgeQueue().add("fan-out", { runId: id }, { jobId: id });
    restarted += 1;
  }
  return restarted;
}

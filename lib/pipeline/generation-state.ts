import type { Generation, Prisma } from "@prisma/client";
import type { Redis } from "ioredis";
import { db } from "../db";
import { enqueueGenerations } from "../generations";
import { log } from "../log";
import { redis as conn } from "../redis";
import { attemptSeqBase, ATTEMPT_SEQ_STRIDE, generationLogKey, MAX_GENERATION_ATTEMPTS, type GenerationUsage } from "./contracts";
import { createNextTurn } from "./next-turn";
import { removeGenerationJobs } from "./queues";
import { CANCELLED, publicGenerationError, StreamWriter } from "./stream-log";

// The one module that changes a generation's status. Every transition is a conditional update
// on the row (PostgreSQL is the record), so two processes racing for the same generation —
// a worker and a cancel, two workers after a stall, a reconciler — cannot both win. An attempt
// that has been overtaken by a newer one (its `attempt` no longer the row's) changes nothing.
//
//   queued ──start──> running ──complete──> completed
//     │  ▲               │ └──────fail────> failed ──retry──> queued
//     │  └───requeue─────┘
//     └──────────cancel (queued or running)──> cancelled

const OPEN: Prisma.EnumGenerationStatusFilter = { in: ["queued", "running"] };

type Tx = Prisma.TransactionClient;

/** Restarted this often without finishing (a crash it causes, a stall it keeps hitting): failed for good. */
export const TOO_MANY_ATTEMPTS = `the generation was started ${MAX_GENERATION_ATTEMPTS} times without finishing`;

/**
 * queued (or running, when a stalled attempt is taken over) → running, counting a new attempt.
 * Returns the attempt, or null when the generation is finished, cancelled, or has used up its
 * attempts (then it is failed here).
 */
export async function startAttempt(conn: Redis, id: string): Promise<{ attempt: number } | null> {
  const [row] = await db.generation.updateManyAndReturn({
    where: { id, status: OPEN, attempt: { lt: MAX_GENERATION_ATTEMPTS } },
    data: { status: "running", startedAt: new Date(), attempt: { increment: 1 } },
    select: { attempt: true },
  });
  if (row) return row;
  await failGeneration(conn, id, TOO_MANY_ATTEMPTS);
  return null;
}

/**
 * A writer for the attempt's stream, numbered from the attempt's base; a restart begins with
 * `reset` so viewers drop the old text. null when a later attempt has written already (this one
 * was overtaken and must not write into its numbers).
 */
export async function attemptStream(redis: Redis, id: string, attempt: number): Promise<StreamWriter | null> {
  const base = attemptSeqBase(attempt);
  const writer = await StreamWriter.open(redis, id, base);
  if (writer.lastSeq >= base + ATTEMPT_SEQ_STRIDE) return null;
  if (attempt > 1 || writer.lastSeq > 0) writer.write({ type: "reset" });
  return writer;
}

export type CompletedAttempt = { text: string; usage?: GenerationUsage; completionTokens: number; ttftMs: number | null; durationMs: number };

/**
 * running → completed; false when the generation was cancelled or taken over meanwhile. A
 * pre-generation answer to a multi-turn question creates the question's next turn in the same
 * transaction (next-turn.ts), so its run never looks finished between two turns; the job is added
 * after the commit (should that fail, the reconciler enqueues the queued row).
 */
export async function completeAttempt(id: string, attempt: number, result: CompletedAttempt): Promise<boolean> {
  const next = await db.$transaction(async (tx) => {
    const [row] = await tx.generation.updateManyAndReturn({
      where: { id, status: "running", attempt },
      data: {
        status: "completed",
        text: result.text,
        promptTokens: result.usage?.promptTokens ?? null,
        completionTokens: result.usage?.completionTokens ?? result.completionTokens,
        ttftMs: result.ttftMs,
        durationMs: result.durationMs,
        finishedAt: new Date(),
        error: null,
      },
      select: { purpose: true, questionId: true },
    });
    if (!row) return null;
    return row.purpose === "pregen" && row.questionId ? createNextTurn(tx, id) : [];
  });
  if (next === null) return false;
  if (next.length) await enqueueGenerations(next).catch((e) => log.warn("pregen:next-turn", e));
  return true;
}

/** running → queued: the attempt ends without a result and another one will follow. */
export async function requeueAttempt(id: string, attempt?: number): Promise<boolean> {
  const { count } = await db.generation.updateMany({ where: { id, status: "running", ...(attempt !== undefined ? { attempt } : {}) }, data: { status: "queued" } });
  return count > 0;
}

async function finish(
  conn: Redis,
  id: string,
  data: { status: "failed" | "cancelled"; error: string },
  message: string,
  { writer, attempt }: { writer?: StreamWriter | null; attempt?: number },
): Promise<boolean> {
  const [row] = await db.generation.updateManyAndReturn({
    where: { id, status: OPEN, ...(attempt !== undefined ? { attempt } : {}) },
    data: { ...data, finishedAt: new Date() },
    select: { attempt: true },
  });
  if (!row) return false;
  const stream = writer ?? (await StreamWriter.open(conn, id, attemptSeqBase(row.attempt)));
  stream.write({ type: "error", error: message });
  await stream.flush();
  return true;
}

/**
 * queued or running → failed, ending its stream with a viewer-safe message (the row keeps the
 * detail). `attempt`: only if that attempt is still the row's.
 */
export function failGeneration(conn: Redis, id: string, detail: string, options: { writer?: StreamWriter | null; attempt?: number } = {}): Promise<boolean> {
  const error = detail.slice(0, 2000);
  return finish(conn, id, { status: "failed", error }, publicGenerationError(error), options);
}

/** queued or running → cancelled, ending its stream; false when it had already finished. */
export function cancelGenerationRow(conn: Redis, id: string, writer?: StreamWriter | null): Promise<boolean> {
  return finish(conn, id, { status: "cancelled", error: CANCELLED }, CANCELLED, { writer });
}

/** Every queued generation of a pre-generation run → cancelled (their jobs are removed by the caller). */
export async function cancelQueuedOfRun(runId: string): Promise<number> {
  const { count } = await db.generation.updateMany({
    where: { pregenRunId: runId, status: "queued" },
    data: { status: "cancelled", error: CANCELLED, finishedAt: new Date() },
  });
  return count;
}

/**
 * failed → queued for these generations, with fresh jobs. Their old jobs go first (a failed job
 * keeps the generation's id in BullMQ, so a new add would be ignored; and a reconciler that saw
 * the reopened row beside its spent job would fail it again), then the rows change in one
 * transaction — `audit` joins it — then the new jobs are added, the old streams dropped (a new
 * viewer must not end on the last attempt's error) and their pre-generation runs reopened.
 */
export async function retryGenerations(ids: string[], audit?: (tx: Tx, rows: Generation[]) => Promise<void>): Promise<Generation[]> {
  const failed = await db.generation.findMany({ where: { id: { in: ids }, status: "failed" }, select: { id: true, modelId: true, purpose: true } });
  if (!failed.length) return [];
  await removeGenerationJobs(failed);
  const rows = await db.$transaction(async (tx) => {
    const reopened = await tx.generation.updateManyAndReturn({
      where: { id: { in: failed.map((g) => g.id) }, status: "failed" },
      data: { status: "queued", error: null, text: "", startedAt: null, finishedAt: null, ttftMs: null, durationMs: null },
    });
    const runs = [...new Set(reopened.map((g) => g.pregenRunId).filter((r): r is string => !!r))];
    if (runs.length) await tx.pregenRun.updateMany({ where: { id: { in: runs } }, data: { status: "running", finishedAt: null } });
    if (reopened.length) await audit?.(tx, reopened);
    return reopened;
  });
  if (!rows.length) return [];
  await conn().del(...rows.map((g) => generationLogKey(g.id)));
  await enqueueGenerations(rows);
  return rows;
}


import type { Generation, Prisma } from "@prisma/client";
import type { Redis } from "ioredis";
import { db } from "../db";
import { enqueueGenerations } from "../generations";
import { attemptSeqBase, type GenerationUsage } from "./contracts";
import { queueOfGeneration } from "./queues";
import { CANCELLED, publicGenerationError, StreamWriter } from "./stream-log";

// The one module that changes a generation's status. Every transition is a conditional update
// on the row (PostgreSQL is the record), so two processes racing for the same generation —
// a worker and a cancel, two workers after a stall, a reconciler — cannot both win:
//
//   queued ──start──> running ──complete──> completed
//     │  ▲               │ └──────fail────> failed ──retry──> queued
//     │  └───requeue─────┘
//     └──────────cancel (queued or running)──> cancelled

const OPEN: Prisma.EnumGenerationStatusFilter = { in: ["queued", "running"] };

type Tx = Prisma.TransactionClient;

/**
 * queued (or running, when a stalled attempt is taken over) → running, counting a new attempt.
 * Returns the attempt, or null when the generation is finished or cancelled meanwhile.
 */
export async function startAttempt(id: string): Promise<{ attempt: number } | null> {
  const [row] = await db.generation.updateManyAndReturn({
    where: { id, status: OPEN },
    data: { status: "running", startedAt: new Date(), attempt: { increment: 1 } },
    select: { attempt: true },
  });
  return row ?? null;
}

/** A writer for the attempt's stream: a restart begins with `reset` so viewers drop the old text. */
export async function attemptStream(redis: Redis, id: string, attempt: number): Promise<StreamWriter> {
  const writer = await StreamWriter.open(redis, id, attemptSeqBase(attempt));
  if (attempt > 1 || writer.lastSeq > 0) writer.write({ type: "reset" });
  return writer;
}

export type CompletedAttempt = { text: string; usage?: GenerationUsage; completionTokens: number; ttftMs: number | null; durationMs: number };

/** running → completed; false when the generation was cancelled (or taken over) meanwhile. */
export async function completeAttempt(id: string, attempt: number, result: CompletedAttempt): Promise<boolean> {
  const { count } = await db.generation.updateMany({
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
  });
  return count > 0;
}

/** running → queued: the attempt ends without a result and another one will follow. */
export async function requeueAttempt(id: string): Promise<boolean> {
  const { count } = await db.generation.updateMany({ where: { id, status: "running" }, data: { status: "queued" } });
  return count > 0;
}

async function finish(
  conn: Redis,
  id: string,
  data: { status: "failed" | "cancelled"; error: string },
  message: string,
  writer?: StreamWriter,
): Promise<boolean> {
  const [row] = await db.generation.updateManyAndReturn({
    where: { id, status: OPEN },
    data: { ...data, finishedAt: new Date() },
    select: { attempt: true },
  });
  if (!row) return false;
  const stream = writer ?? (await StreamWriter.open(conn, id, attemptSeqBase(row.attempt)));
  stream.write({ type: "error", error: message });
  await stream.flush();
  return true;
}

/** queued or running → failed, ending its stream with a viewer-safe message (the row keeps the detail). */
export function failGeneration(conn: Redis, id: string, detail: string, writer?: StreamWriter): Promise<boolean> {
  const error = detail.slice(0, 2000);
  return finish(conn, id, { status: "failed", error }, publicGenerationError(error), writer);
}

/** queued or running → cancelled, ending its stream; false when it had already finished. */
export function cancelGenerationRow(conn: Redis, id: string, writer?: StreamWriter): Promise<boolean> {
  return finish(conn, id, { status: "cancelled", error: CANCELLED }, CANCELLED, writer);
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
 * failed → queued for these generations, their old jobs removed and new ones added (a failed
 * job keeps the generation's id in BullMQ; a new add with that id would be ignored). `tx`: the
 * row change joins the caller's transaction, and the jobs follow once it has committed.
 */
export async function retryFailed(ids: string[], tx?: Tx): Promise<Generation[]> {
  if (!ids.length) return [];
  const rows = await (tx ?? db).generation.updateManyAndReturn({
    where: { id: { in: ids }, status: "failed" },
    data: { status: "queued", error: null, text: "", startedAt: null, finishedAt: null, ttftMs: null, durationMs: null },
  });
  return rows;
}

/** The second half of retryFailed, after its transaction committed. */
export async function enqueueRetried(rows: Generation[]): Promise<void> {
  for (const g of rows) {
    const job = await queueOfGeneration(g).getJob(g.id);
    if (job) await job.remove().catch(() => undefined);
  }
  const byModel = new Map<string, Generation[]>();
  for (const g of rows) byModel.set(g.modelId, [...(byModel.get(g.modelId) ?? []), g]);
  for (const [modelId, generations] of byModel) await enqueueGenerations(modelId, generations);
}

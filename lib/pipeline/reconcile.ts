import type { Generation } from "@prisma/client";
import type { Redis } from "ioredis";
import { reconcileRatings } from "../arena/ratings-job";
import { db } from "../db";
import { enqueueGenerations } from "../generations";
import { log } from "../log";
import { failGeneration, requeueAttempt } from "./generation-state";
import { reconcileNextTurns } from "./next-turn";
import { reconcileJudgeRuns } from "../judge/runs";
import { settlePregenRun } from "./pregen";
import { hasPendingJob, PENDING_JOB_STATES, pregenQueue, queueOfGeneration } from "./queues";

// PostgreSQL says what must happen; Redis only carries the work. After a Redis restart, a wipe,
// a worker killed at the wrong moment or a lost lock, a generation can be queued or running in
// the record with no job left to run it. The reconciler finds those and enqueues them again.
// Job id = generation id, so several workers reconciling at once add each job once.

/** A row younger than this may be between its insert and its enqueue: leave it be. */
const GRACE_MS = 10_000;
const BATCH = 100;

/**
 * BullMQ failed the job itself (it stalled too often, or its lock went with a Redis restart):
 * the pipeline's fault, not the answer's, so it runs again.
 */
export function failedByQueue(reason: string): boolean {
  return /stalled more than allowable limit|missing lock|lock mismatch|lock was lost/i.test(reason);
}

/** nextTurns: next turns of multi-turn questions created after their previous turn's completion was cut short. */
export type ReconcileReport = { checked: number; enqueued: number; failed: number; pregenRuns: number; judgeRuns: number; nextTurns: number; ratings: boolean };

type Open = Pick<Generation, "id" | "modelId" | "purpose" | "status" | "attempt" | "messages" | "params">;

/** What to do with one open generation whose job is in `state` and will not run. */
async function repair(conn: Redis, g: Open, state: string): Promise<"enqueue" | "failed" | null> {
  const job = state === "unknown" ? undefined : await queueOfGeneration(g).getJob(g.id);
  if (state === "failed" && job) {
    const spent = job.attemptsMade >= (job.opts.attempts ?? 1);
    // Attempts spent on the engine: it failed for real, and only the row's update was lost
    // (the worker died right then).
    if (spent && !failedByQueue(job.failedReason ?? "")) {
      return (await failGeneration(conn, g.id, job.failedReason || "the generation failed", { attempt: g.attempt })) ? "failed" : null;
    }
  }
  // Failed by the queue, or completed without finishing the row (its attempt lost a race): the
  // old job leaves so the same id can be added again.
  await job?.remove().catch(() => undefined);
  if (g.status === "running" && !(await requeueAttempt(g.id, g.attempt))) return null; // it moved on meanwhile
  return "enqueue";
}

/**
 * Re-enqueues every queued or running generation of these models (all when omitted) that has no
 * job a worker will run; with `pregen`, also restarts the fan-out of pre-generation runs whose
 * job was lost, and schedules a rating recompute that votes are owed.
 */
export async function reconcileGenerations(conn: Redis, { modelIds, pregen = true, now = Date.now() }: { modelIds?: string[]; pregen?: boolean; now?: number } = {}): Promise<ReconcileReport> {
  const report: ReconcileReport = { checked: 0, enqueued: 0, failed: 0, pregenRuns: 0, judgeRuns: 0, nextTurns: 0, ratings: false };
  let cursor: string | undefined;
  for (;;) {
    const rows: Open[] = await db.generation.findMany({
      where: {
        status: { in: ["queued", "running"] },
        createdAt: { lt: new Date(now - GRACE_MS) },
        ...(modelIds ? { modelId: { in: modelIds } } : {}),
      },
      select: { id: true, modelId: true, purpose: true, status: true, attempt: true, messages: true, params: true },
      orderBy: { id: "asc" },
      take: BATCH,
      ...(cursor ? { cursor: { id: cursor }, skip: 1 } : {}),
    });
    if (!rows.length) break;
    cursor = rows[rows.length - 1]!.id;
    report.checked += rows.length;
    const jobs = await Promise.all(rows.map(hasPendingJob));
    const toEnqueue: Open[] = [];
    for (let i = 0; i < rows.length; i++) {
      if (jobs[i]!.pending) continue;
      const action = await repair(conn, rows[i]!, jobs[i]!.state);
      if (action === "enqueue") toEnqueue.push(rows[i]!);
      if (action === "failed") report.failed += 1;
    }
    await enqueueGenerations(toEnqueue);
    report.enqueued += toEnqueue.length;
  }
  if (pregen) {
    // Before the runs settle: a missing next turn of a multi-turn question keeps its run open.
    report.nextTurns = await reconcileNextTurns(new Date(now - GRACE_MS));
    report.pregenRuns = await reconcilePregenRuns(now);
    report.judgeRuns = await reconcileJudgeRuns(new Date(now - GRACE_MS));
    report.ratings = await reconcileRatings();
  }
  if (report.enqueued || report.failed || report.pregenRuns || report.judgeRuns || report.nextTurns || report.ratings) log.warn("pipeline:reconciled", report);
  return report;
}

/**
 * Running pre-generation runs whose fan-out job is gone get it back (fanning out twice is safe);
 * one whose fan-out failed for real settles with what it has.
 */
async function reconcilePregenRuns(now: number): Promise<number> {
  const runs = await db.pregenRun.findMany({ where: { status: "running", createdAt: { lt: new Date(now - GRACE_MS) } }, select: { id: true } });
  let restarted = 0;
  for (const { id } of runs) {
    const state = await pregenQueue().getJobState(id);
    if (PENDING_JOB_STATES.has(state)) continue;
    if (state === "failed") {
      const job = await pregenQueue().getJob(id);
      if (!failedByQueue(job?.failedReason ?? "")) {
        await settlePregenRun(id, { fannedOut: true });
        continue;
      }
      await job?.remove().catch(() => undefined);
    } else if (state === "completed") {
      await settlePregenRun(id);
      continue;
    }
    await pregenQueue().add("fan-out", { runId: id }, { jobId: id });
    restarted += 1;
  }
  return restarted;
}

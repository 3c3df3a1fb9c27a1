import type { Generation } from "@prisma/client";
import type { Redis } from "ioredis";
import { db } from "../db";
import { enqueueGenerations } from "../generations";
import { log } from "../log";
import { failGeneration, requeueAttempt } from "./generation-state";
import { settlePregenRun } from "./pregen";
import { pregenQueue, queueOfGeneration } from "./queues";

// PostgreSQL says what must happen; Redis only carries the work. After a Redis restart, a wipe,
// a worker killed at the wrong moment or a lost lock, a generation can be queued or running in
// the record with no job left to run it. The reconciler finds those and enqueues them again.
// Job id = generation id, so several workers reconciling at once add each job once.

/** A row younger than this may be between its insert and its enqueue: leave it be. */
const GRACE_MS = 10_000;
const BATCH = 100;

/** BullMQ states in which some worker will (or does) run the job. */
const LIVE_STATES = new Set(["waiting", "wait", "prioritized", "delayed", "active", "waiting-children", "paused"]);

export type ReconcileReport = { checked: number; enqueued: number; failed: number; pregenRuns: number };

type Open = Pick<Generation, "id" | "modelId" | "purpose" | "status" | "messages" | "params" | "createdAt">;

/** What to do with one open generation whose job is in `state`. */
async function repair(conn: Redis, g: Open, state: string): Promise<"enqueue" | "failed" | null> {
  if (LIVE_STATES.has(state)) return null;
  if (state === "failed") {
    const job = await queueOfGeneration(g).getJob(g.id);
    const reason = job?.failedReason ?? "";
    const spent = job ? job.attemptsMade >= (job.opts.attempts ?? 1) : false;
    // A job failed by BullMQ itself (stalled too often, its lock lost in a restart) is the
    // pipeline's fault, not the answer's: run it again. One that spent its attempts on the
    // engine failed for real, and only the row's update was lost (a worker died right then).
    if (spent && !/stall|lock/i.test(reason)) {
      await failGeneration(conn, g.id, reason || "the generation failed");
      return "failed";
    }
    await job?.remove().catch(() => undefined);
  } else if (state === "completed") {
    // The job ended without finishing the row (its attempt lost a race): run it again.
    await queueOfGeneration(g).getJob(g.id).then((job) => job?.remove()).catch(() => undefined);
  }
  if (g.status === "running") await requeueAttempt(g.id);
  return "enqueue";
}

/**
 * Re-enqueues every queued or running generation of these models (all when omitted) that has no
 * job a worker will run, and restarts the fan-out of pre-generation runs whose job was lost.
 */
export async function reconcileGenerations(conn: Redis, { modelIds, pregen = true, now = Date.now() }: { modelIds?: string[]; pregen?: boolean; now?: number } = {}): Promise<ReconcileReport> {
  const report: ReconcileReport = { checked: 0, enqueued: 0, failed: 0, pregenRuns: 0 };
  let cursor: string | undefined;
  for (;;) {
    const rows: Open[] = await db.generation.findMany({
      where: {
        status: { in: ["queued", "running"] },
        createdAt: { lt: new Date(now - GRACE_MS) },
        ...(modelIds ? { modelId: { in: modelIds } } : {}),
      },
      select: { id: true, modelId: true, purpose: true, status: true, messages: true, params: true, createdAt: true },
      orderBy: { id: "asc" },
      take: BATCH,
      ...(cursor ? { cursor: { id: cursor }, skip: 1 } : {}),
    });
    if (!rows.length) break;
    cursor = rows[rows.length - 1]!.id;
    report.checked += rows.length;
    const states = await Promise.all(rows.map((g) => queueOfGeneration(g).getJobState(g.id)));
    const toEnqueue: Open[] = [];
    for (let i = 0; i < rows.length; i++) {
      const action = await repair(conn, rows[i]!, states[i]!);
      if (action === "enqueue") toEnqueue.push(rows[i]!);
      if (action === "failed") report.failed += 1;
    }
    const byModel = new Map<string, Open[]>();
    for (const g of toEnqueue) byModel.set(g.modelId, [...(byModel.get(g.modelId) ?? []), g]);
    for (const [modelId, generations] of byModel) await enqueueGenerations(modelId, generations);
    report.enqueued += toEnqueue.length;
  }
  if (pregen) report.pregenRuns = await reconcilePregenRuns(now);
  if (report.enqueued || report.failed || report.pregenRuns) log.warn("pipeline:reconciled", report);
  return report;
}

/** Running pre-generation runs whose fan-out job is gone get it back (fanning out twice is safe). */
async function reconcilePregenRuns(now: number): Promise<number> {
  const runs = await db.pregenRun.findMany({ where: { status: "running", createdAt: { lt: new Date(now - GRACE_MS) } }, select: { id: true } });
  let restarted = 0;
  for (const { id } of runs) {
    const state = await pregenQueue().getJobState(id);
    if (LIVE_STATES.has(state)) continue;
    if (state === "completed") {
      await settlePregenRun(id);
      continue;
    }
    if (state === "failed") await pregenQueue().remove(id).catch(() => undefined);
    await pregenQueue().add("fan-out", { runId: id }, { jobId: id });
    restarted += 1;
  }
  return restarted;
}

import type { Prisma } from "@prisma/client";
import { Queue, Worker, type ConnectionOptions } from "bullmq";
import { db } from "../db";
import { env } from "../env";
import { log } from "../log";
import { RATINGS_QUEUE } from "../pipeline/contracts";
import { compareNames, computeLeaderboard, DEFAULT_BOOTSTRAP_ROUNDS, DEFAULT_SEED, type Leaderboard, type RatedVote } from "../ratings";

/** Votes arriving within this window share one recompute. */
const DEBOUNCE_MS = 5_000;
let lastScheduledWindow = -1;

export type ModelMeta = { id: string; slug: string; displayName: string; organisation: string; status: string };
export type StoredRatingRun = {
  id: string;
  version: number;
  createdAt: Date;
  voteCount: number;
  battleSetHash: string;
  seed: number;
  leaderboard: Leaderboard;
  /** Model id → display data, so pages need no second lookup. */
  models: Record<string, ModelMeta>;
  /** Category slug → names. */
  categories: Record<string, { nameZh: string; nameEn: string }>;
};

function connection(): ConnectionOptions {
  return { url: env().REDIS_URL, maxRetriesPerRequest: null } as ConnectionOptions;
}

let queue: Queue | undefined;
function ratingsQueue(): Queue {
  queue ??= new Queue(RATINGS_QUEUE, { connection: connection() });
  return queue;
}

/**
 * After a vote: one recompute per debounce window, however many votes arrive in it. Each
 * process adds at most one job per window (no Redis round trip for the other votes), and the
 * window's job id makes the adds of several web processes one job.
 */
export async function scheduleRatingsRecompute(now = Date.now()): Promise<void> {
  const window = Math.floor(now / DEBOUNCE_MS);
  if (window === lastScheduledWindow) return;
  lastScheduledWindow = window;
  const delay = (window + 1) * DEBOUNCE_MS - now;
  await ratingsQueue().add("recompute", { reason: "votes" }, { jobId: `votes-${window}`, delay, removeOnComplete: 100, removeOnFail: 100 });
}

/** On demand (admin): starts at once; returns the job id to poll. */
export async function requestRatingsRecompute(): Promise<{ jobId: string }> {
  const job = await ratingsQueue().add("recompute", { reason: "admin" }, { removeOnComplete: 100, removeOnFail: 100 });
  return { jobId: job.id! };
}

export async function getRatingsJobState({ jobId }: { jobId: string }): Promise<string> {
  const job = await ratingsQueue().getJob(jobId);
  return job ? await job.getState() : "unknown";
}

/** Recomputes everything from the valid, rated votes in vote order and stores a new rating run. */
export async function computeAndStoreRatingRun({ bootstrapRounds = DEFAULT_BOOTSTRAP_ROUNDS, seed = DEFAULT_SEED } = {}) {
  const [votes, models, categories] = await Promise.all([
    db.vote.findMany({
      where: { valid: true, rated: true },
      orderBy: [{ createdAt: "asc" }, { id: "asc" }],
      select: { modelAId: true, modelBId: true, winner: true, categoryId: true, createdAt: true },
    }),
    db.model.findMany({ select: { id: true, slug: true, displayName: true, organisation: true, status: true } }),
    db.category.findMany({ select: { id: true, slug: true, nameZh: true, nameEn: true } }),
  ]);
  const categorySlug = new Map(categories.map((c) => [c.id, c.slug]));
  const rated: RatedVote[] = votes.map((v) => ({
    modelA: v.modelAId,
    modelB: v.modelBId,
    winner: v.winner,
    category: v.categoryId ? (categorySlug.get(v.categoryId) ?? null) : null,
    at: v.createdAt.getTime(),
  }));
  const leaderboard = computeLeaderboard(rated, { bootstrapRounds, seed });
  const results = {
    leaderboard,
    models: Object.fromEntries(models.map((m) => [m.id, m])),
    categories: Object.fromEntries(categories.map((c) => [c.slug, { nameZh: c.nameZh, nameEn: c.nameEn }])),
  };
  const run = await db.$transaction(async (tx) => {
    const created = await tx.ratingRun.create({
      data: {
        method: "bradley-terry+online-elo",
        params: { bootstrapRounds, seed, eloK: 4, scale: 400, base: 10, initial: 1000 },
        battleSetHash: leaderboard.battleSetHash,
        seed,
        voteCount: votes.length,
        results: JSON.parse(JSON.stringify(results)) as Prisma.InputJsonValue,
      },
    });
    // The online Elo is recomputed from scratch in vote order so it never drifts (votes do
    // not touch it). Rows in id order: two overlapping runs then lock them in one order.
    const byId = [...leaderboard.models].sort((x, y) => compareNames(x.model, y.model));
    for (const m of byId) await tx.model.update({ where: { id: m.model }, data: { elo: m.elo } });
    return created;
  });
  log.info("ratings:run", { version: run.version, votes: votes.length });
  return run;
}

export async function getLatestRatingRun(): Promise<StoredRatingRun | null> {
  const run = await db.ratingRun.findFirst({ orderBy: { version: "desc" } });
  if (!run) return null;
  const results = run.results as unknown as Pick<StoredRatingRun, "leaderboard" | "models" | "categories">;
  return { id: run.id, version: run.version, createdAt: run.createdAt, voteCount: run.voteCount, battleSetHash: run.battleSetHash, seed: run.seed, ...results };
}

/** Rating runs over time (for a model's history chart): version, date and that model's ratings. */
export async function getRatingHistory({ modelId }: { modelId: string }) {
  const runs = await db.ratingRun.findMany({ orderBy: { version: "asc" }, select: { version: true, createdAt: true, results: true } });
  return runs.flatMap((run) => {
    const row = (run.results as unknown as { leaderboard: Leaderboard }).leaderboard.models.find((m) => m.model === modelId);
    return row ? [{ version: run.version, at: run.createdAt, bt: row.bt, ciLow: row.ciLow, ciHigh: row.ciHigh, elo: row.elo }] : [];
  });
}

/** The ratings consumer the worker process runs; one at a time so runs never interleave. */
export function startRatingsWorker(): Worker {
  const worker = new Worker(RATINGS_QUEUE, async () => {
    const run = await computeAndStoreRatingRun();
    return { version: run.version };
  }, { connection: connection(), concurrency: 1 });
  worker.on("error", (error) => log.error("ratings:worker", error));
  return worker;
}

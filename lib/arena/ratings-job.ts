import { Prisma } from "@prisma/client";
import { db } from "../db";
import { log } from "../log";
import { ratingsQueue } from "../pipeline/queues";
import { compareNames, computeLeaderboard, DEFAULT_BOOTSTRAP_ROUNDS, DEFAULT_SEED, type Anchor, type Leaderboard, type RatedVote, type StyleCounts } from "../ratings";
import { answerStyle, duplicatePromptVotes, parseAnswerStyle, promptKey, sideStyle, type AnswerStyle } from "./answer-style";
import { getRatingSettings } from "./rating-settings";

// The ratings job: when a recompute is queued (after votes, on an admin's request, or by the
// reconciler for votes a run still owes) and the recompute itself, which stores a rating run.
// Its consumer is workers/ratings.ts.

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
  /** The scale in force: the anchor (a model id and its rating) when it applied, else mean 1000. */
  scale: { anchor: Anchor | null };
  /** Live-prompt de-duplication: the threshold, and the votes and prompts it left out (they stay stored). */
  dedup: { threshold: number; excludedVotes: number; prompts: number };
};

/**
 * After a vote: one recompute per debounce window, however many votes arrive in it. Each
 * process adds at most one job per window (no Redis round trip for the other votes), and the
 * window's job id makes the adds of several web processes one job.
 *
 * A vote does not wait for it (castVote does not await it) and it never rejects: it resolves
 * true once the recompute is queued (or was in this window), false when the queue failed (the
 * producer fails fast while Redis is away). A recompute lost so is owed by the reconciler
 * (reconcileRatings), which finds the votes newer than the latest run.
 */
export async function scheduleRatingsRecompute(now = Date.now()): Promise<boolean> {
  const window = Math.floor(now / DEBOUNCE_MS);
  if (window === lastScheduledWindow) return true;
  const delay = (window + 1) * DEBOUNCE_MS - now;
  try {
    await ratingsQueue().add("recompute", { reason: "votes" }, { jobId: `votes-${window}`, delay });
  } catch (error) {
    log.warn("ratings:schedule", error);
    return false;
  }
  lastScheduledWindow = window; // only once it is in: a failed add is tried again by the next vote
  return true;
}

/**
 * Votes newer than the latest rating run with no recompute on its way (its add was lost with
 * Redis, or failed while Redis was away): schedule one, so the leaderboard catches up.
 */
export async function reconcileRatings(): Promise<boolean> {
  const [votes, newest, run] = await Promise.all([
    db.vote.count(),
    db.vote.aggregate({ _max: { createdAt: true } }),
    db.ratingRun.findFirst({ orderBy: { version: "desc" }, select: { createdAt: true, votesSeen: true } }),
  ]);
  if (votes === 0) return false;
  // A run counts the votes in the snapshot it read, so a vote cast while it computed is still
  // owed; runs stored before that was recorded fall back to their creation time.
  const covered = run && (run.votesSeen !== null ? run.votesSeen === votes : run.createdAt >= newest._max.createdAt!);
  if (covered) return false;
  if ((await ratingsQueue().getJobCountByTypes("waiting", "delayed", "active", "prioritized")) > 0) return false;
  await ratingsQueue().add("recompute", { reason: "reconcile" });
  return true;
}

/** On demand (admin): starts at once; returns the job id to poll. */
export async function requestRatingsRecompute(): Promise<{ jobId: string }> {
  const job = await ratingsQueue().add("recompute", { reason: "admin" });
  return { jobId: job.id! };
}

export async function getRatingsJobState({ jobId }: { jobId: string }): Promise<string> {
  const job = await ratingsQueue().getJob(jobId);
  return job ? await job.getState() : "unknown";
}

/**
 * Recomputes everything from the valid, rated votes in vote order and stores a new rating
 * run: the plain view and the style-controlled one, on the scale and with the prompt
 * de-duplication of the rating settings.
 */
export async function computeAndStoreRatingRun({ bootstrapRounds = DEFAULT_BOOTSTRAP_ROUNDS, seed = DEFAULT_SEED } = {}) {
  await fillStyleCounts();
  // The votes and their count come from one snapshot, so the count says exactly what this run saw.
  const snapshot = db.$transaction([
    db.vote.count(),
    db.vote.findMany({
      where: { valid: true, rated: true },
      orderBy: [{ createdAt: "asc" }, { id: "asc" }],
      select: {
        id: true,
        modelAId: true,
        modelBId: true,
        winner: true,
        categoryId: true,
        createdAt: true,
        battle: { select: { prompt: true, generations: { select: { side: true, generation: { select: { styleCounts: true } } } } } },
      },
    }),
  ], { isolationLevel: "RepeatableRead" });
  const [settings, [votesSeen, votes], models, categories] = await Promise.all([
    getRatingSettings(),
    snapshot,
    db.model.findMany({ select: { id: true, slug: true, displayName: true, organisation: true, status: true } }),
    db.category.findMany({ select: { id: true, slug: true, nameZh: true, nameEn: true } }),
  ]);
  const keyed = votes.map((v) => ({ id: v.id, promptKey: livePromptKey(v.battle.prompt) }));
  const excluded = duplicatePromptVotes(keyed, settings.dedupThreshold);
  const duplicatePrompts = new Set(keyed.filter((v) => excluded.has(v.id)).map((v) => v.promptKey)).size;
  const categorySlug = new Map(categories.map((c) => [c.id, c.slug]));
  const rated: RatedVote[] = votes
    .filter((v) => !excluded.has(v.id))
    .map((v) => ({
      modelA: v.modelAId,
      modelB: v.modelBId,
      winner: v.winner,
      category: v.categoryId ? (categorySlug.get(v.categoryId) ?? null) : null,
      at: v.createdAt.getTime(),
      style: battleStyle(v.battle.generations),
    }));
  const ratedIds = new Set(rated.flatMap((v) => [v.modelA, v.modelB]));
  const anchor = settings.anchorModelId && ratedIds.has(settings.anchorModelId) ? { model: settings.anchorModelId, rating: settings.anchorRating } : undefined;
  const leaderboard = computeLeaderboard(rated, { bootstrapRounds, seed, anchor, styleControl: rated.length > 0 });
  // The library falls back to mean 1000 when the anchor has no finite rating; store what applied.
  const anchorRow = anchor && leaderboard.models.find((m) => m.model === anchor.model);
  const results = {
    leaderboard,
    models: Object.fromEntries(models.map((m) => [m.id, m])),
    categories: Object.fromEntries(categories.map((c) => [c.slug, { nameZh: c.nameZh, nameEn: c.nameEn }])),
    scale: { anchor: anchorRow && anchorRow.bound === null ? anchor : null },
    dedup: { threshold: settings.dedupThreshold, excludedVotes: excluded.size, prompts: duplicatePrompts },
  };
  const run = await db.$transaction(async (tx) => {
    const created = await tx.ratingRun.create({
      data: {
        method: "bradley-terry+style-control+online-elo",
        params: { bootstrapRounds, seed, eloK: 4, scale: 400, base: 10, initial: 1000, anchor: results.scale.anchor, dedupThreshold: settings.dedupThreshold },
        battleSetHash: leaderboard.battleSetHash,
        seed,
        voteCount: rated.length,
        votesSeen,
        results: JSON.parse(JSON.stringify(results)) as Prisma.InputJsonValue,
      },
    });
    // The online Elo is recomputed from scratch in vote order so it never drifts (votes do
    // not touch it). Rows in id order: two overlapping runs then lock them in one order.
    const byId = [...leaderboard.models].sort((x, y) => compareNames(x.model, y.model));
    for (const m of byId) await tx.model.update({ where: { id: m.model }, data: { elo: m.elo } });
    return created;
  });
  log.info("ratings:run", { version: run.version, votes: rated.length, deduplicated: excluded.size });
  return run;
}

/** A live battle's prompt key (its user turns); null for bank battles, whose questions repeat by design. */
function livePromptKey(prompt: Prisma.JsonValue | null): string | null {
  if (!Array.isArray(prompt)) return null;
  const turns = prompt.flatMap((turn) => {
    const t = turn as { role?: unknown; content?: unknown } | null;
    return t && t.role === "user" && typeof t.content === "string" ? [t.content] : [];
  });
  return turns.length > 0 ? promptKey(turns) : null;
}

/** Both sides' answer counts summed over the turns (a side with no answer counts 0). */
function battleStyle(links: { side: "A" | "B"; generation: { styleCounts: Prisma.JsonValue | null } }[]): { a: StyleCounts; b: StyleCounts } {
  const side = (which: "A" | "B") =>
    sideStyle(links.filter((l) => l.side === which).flatMap((l) => {
      const counts = parseAnswerStyle(l.generation.styleCounts);
      return counts ? [counts] : [];
    }));
  return { a: side("A"), b: side("B") };
}

/** Batches of this many answers get their style counts per statement. */
const STYLE_BATCH = 500;

/** Computes and stores the style counts of every battle answer that has none yet (once per answer). */
async function fillStyleCounts(): Promise<void> {
  for (;;) {
    const missing = await db.generation.findMany({
      where: { styleCounts: { equals: Prisma.DbNull }, battles: { some: {} } },
      select: { id: true, text: true },
      take: STYLE_BATCH,
    });
    if (missing.length === 0) return;
    const counts: AnswerStyle[] = missing.map((g) => answerStyle(g.text));
    await db.$executeRaw`
      UPDATE "generations" AS g SET "styleCounts" = v.counts::jsonb
      FROM unnest(${missing.map((g) => g.id)}::text[], ${counts.map((c) => JSON.stringify(c))}::text[]) AS v(id, counts)
      WHERE g.id = v.id`;
    if (missing.length < STYLE_BATCH) return;
  }
}

export async function getLatestRatingRun(): Promise<StoredRatingRun | null> {
  const run = await db.ratingRun.findFirst({ orderBy: { version: "desc" } });
  if (!run) return null;
  const results = run.results as unknown as Pick<StoredRatingRun, "leaderboard" | "models" | "categories"> & Partial<Pick<StoredRatingRun, "scale" | "dedup">>;
  // Runs stored before the scale and de-duplication were recorded: mean 1000, nothing left out.
  const { scale = { anchor: null }, dedup = { threshold: 0, excludedVotes: 0, prompts: 0 }, ...rest } = results;
  return { id: run.id, version: run.version, createdAt: run.createdAt, voteCount: run.voteCount, battleSetHash: run.battleSetHash, seed: run.seed, ...rest, scale, dedup };
}

/** Rating runs over time (for a model's history chart): version, date and that model's ratings. */
export async function getRatingHistory({ modelId }: { modelId: string }) {
  const runs = await db.ratingRun.findMany({ orderBy: { version: "asc" }, select: { version: true, createdAt: true, results: true } });
  return runs.flatMap((run) => {
    const row = (run.results as unknown as { leaderboard: Leaderboard }).leaderboard.models.find((m) => m.model === modelId);
    return row ? [{ version: run.version, at: run.createdAt, bt: row.bt, ciLow: row.ciLow, ciHigh: row.ciHigh, elo: row.elo }] : [];
  });
}

import { getLatestRatingRun, getRatingsJobState, requestRatingsRecompute } from "../arena/ratings-job";
import { getRatingSettings, saveRatingSettings, type RatingSettingsInput } from "../arena/rating-settings";
import { recordAudit } from "../audit";
import { db } from "../db";

export async function recomputeRatings({ actorId }: { actorId: string }): Promise<{ jobId: string }> {
  const { jobId } = await requestRatingsRecompute();
  await recordAudit({ actorId, action: "ratings.recompute", targetType: "rating_run", after: { jobId } });
  return { jobId };
}

export type RatingsStatus = { jobState: string | null; latest: { version: number; createdAt: Date; voteCount: number } | null };

export async function ratingsStatus({ jobId }: { jobId?: string }): Promise<RatingsStatus> {
  const [jobState, run] = await Promise.all([jobId ? getRatingsJobState({ jobId }) : null, getLatestRatingRun()]);
  return { jobState, latest: run ? { version: run.version, createdAt: run.createdAt, voteCount: run.voteCount } : null };
}

/** What the ratings settings page shows: the settings, the models to anchor on, and what the latest run applied. */
export async function ratingSettingsOverview() {
  const [settings, models, run] = await Promise.all([
    getRatingSettings(),
    db.model.findMany({ orderBy: { displayName: "asc" }, select: { id: true, displayName: true, slug: true } }),
    getLatestRatingRun(),
  ]);
  return {
    settings,
    models,
    latest: run ? { version: run.version, createdAt: run.createdAt, voteCount: run.voteCount, scale: run.scale, dedup: run.dedup } : null,
  };
}

/** Saves the rating settings, audited, and starts a recompute so the leaderboard follows. */
export async function updateRatingSettings({ actorId, input }: { actorId: string; input: RatingSettingsInput }) {
  const { before, after } = await saveRatingSettings(input);
  await recordAudit({ actorId, action: "ratings.settings", targetType: "rating_settings", targetId: "1", before, after });
  const { jobId } = await requestRatingsRecompute();
  return { settings: after, jobId };
}

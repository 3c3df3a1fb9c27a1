import { getLatestRatingRun, getRatingsJobState, requestRatingsRecompute } from "../arena/ratings-job";
import { recordAudit } from "../audit";

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

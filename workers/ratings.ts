import { Worker, type ConnectionOptions } from "bullmq";
import { computeAndStoreRatingRun } from "../lib/arena/ratings-job";
import { env } from "../lib/env";
import { log } from "../lib/log";
import { RATINGS_QUEUE, type RatingsJob } from "../lib/pipeline/queues";

// The ratings consumer: each job recomputes and stores a rating run from every vote
// (lib/arena/ratings-job.ts). Jobs come debounced after votes, from an admin, or from the
// reconciler when votes are owed a run.

/** One job at a time, so rating runs never interleave. */
export function startRatingsWorker(): Worker<RatingsJob> {
  // A consumer waits for Redis rather than fail (BullMQ's rule for workers); producers fail fast.
  const connection = { url: env().REDIS_URL, maxRetriesPerRequest: null } as ConnectionOptions;
  const worker = new Worker<RatingsJob>(RATINGS_QUEUE, async () => {
    const run = await computeAndStoreRatingRun();
    return { version: run.version };
  }, { connection, concurrency: 1 });
  worker.on("error", (error) => log.error("ratings:worker", error));
  return worker;
}

import { db } from "../db";
import { errors } from "../errors";
import { redis } from "../redis";
import { CANCEL_CHANNEL, generationCancelKey, REPLAY_LOG } from "./contracts";
import { queueOfGeneration } from "./queues";
import { cancelGenerationRow } from "./generation-state";

/**
 * Stops a generation: a waiting job is removed; a running one is aborted by its worker (the
 * engine request is closed, so the runtime frees the sequence). Returns the status it ends in
 * (a running one reports "cancelled" once its worker has seen the signal, within milliseconds).
 */
export async function cancelGeneration({ generationId }: { generationId: string }): Promise<{ status: string }> {
  const generation = await db.generation.findUnique({ where: { id: generationId }, select: { modelId: true, purpose: true, status: true } });
  if (!generation) throw errors.notFound("generation");
  if (generation.status !== "queued" && generation.status !== "running") return { status: generation.status };
  // The key first: a worker that picks the job up after the broadcast still sees it.
  await redis().multi().set(generationCancelKey(generationId), "1", "EX", REPLAY_LOG.ttlSeconds)
    .publish(CANCEL_CHANNEL, generationId).exec();
  const job = await queueOfGeneration(generation).getJob(generationId);
  let stopHere = !job;
  if (job) {
    const state = await job.getState();
    // A job that is over (failed, completed) or waiting will not reach a worker: end the row here.
    // An active one is its worker's: the key or the broadcast stops it.
    if (state !== "active") {
      await job.remove().catch(() => undefined);
      stopHere = (await job.getState().catch(() => "unknown")) !== "active";
    }
  }
  if (stopHere) await cancelGenerationRow(redis(), generationId);
  return { status: "cancelled" };
}

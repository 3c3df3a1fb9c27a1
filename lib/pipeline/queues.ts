import { Queue, type JobsOptions, type JobType } from "bullmq";
import type { Redis } from "ioredis";
import { createRedis } from "../redis";
import { GENERATION_JOB_OPTIONS, laneOf, modelQueueName, PREGEN_JOB_OPTIONS, PREGEN_QUEUE, type GenerationJob, type GenerationLane, type GenerationPurpose, type PregenJob } from "./contracts";

// Producer side of the queues, shared by the site and the workers. One Redis connection for
// every Queue object; it fails fast so a request never waits on a dead Redis.

type Holder = { leitaiQueueConnection?: Redis; leitaiQueues?: Map<string, Queue> };
const holder = globalThis as unknown as Holder;

function connection(): Redis {
  holder.leitaiQueueConnection ??= createRedis({ maxRetriesPerRequest: 1, connectTimeout: 2000 });
  return holder.leitaiQueueConnection;
}

function queue<T>(name: string, defaultJobOptions: JobsOptions): Queue<T> {
  holder.leitaiQueues ??= new Map();
  let q = holder.leitaiQueues.get(name);
  if (!q) {
    q = new Queue(name, { connection: connection(), defaultJobOptions });
    holder.leitaiQueues.set(name, q);
  }
  return q as Queue<T>;
}

export function generationQueue(modelId: string, lane: GenerationLane = "live"): Queue<GenerationJob> {
  return queue<GenerationJob>(modelQueueName(modelId, lane), { ...GENERATION_JOB_OPTIONS });
}

/** The queue a generation's job is on. */
export function queueOfGeneration(generation: { modelId: string; purpose: GenerationPurpose }): Queue<GenerationJob> {
  return generationQueue(generation.modelId, laneOf(generation.purpose));
}

/** A model's job counts over both its lanes. */
export async function modelJobCounts(modelId: string, ...states: JobType[]): Promise<Record<string, number>> {
  const [live, pregen] = await Promise.all((["live", "pregen"] as const).map((lane) => generationQueue(modelId, lane).getJobCounts(...states)));
  const out: Record<string, number> = {};
  for (const state of states) out[state] = (live?.[state] ?? 0) + (pregen?.[state] ?? 0);
  return out;
}

export function pregenQueue(): Queue<PregenJob> {
  return queue<PregenJob>(PREGEN_QUEUE, { ...PREGEN_JOB_OPTIONS });
}

/** Closes this process's producer queues (tests, scripts). */
export async function closeQueues(): Promise<void> {
  const queues = [...(holder.leitaiQueues?.values() ?? [])];
  holder.leitaiQueues = undefined;
  await Promise.all(queues.map((q) => q.close().catch(() => undefined)));
  const conn = holder.leitaiQueueConnection;
  holder.leitaiQueueConnection = undefined;
  await conn?.quit().catch(() => undefined);
}

import { Queue, type JobsOptions } from "bullmq";
import type { Redis } from "ioredis";
import { createRedis } from "../redis";
import { GENERATION_JOB_OPTIONS, modelQueueName, PREGEN_QUEUE, type GenerationJob, type PregenJob } from "./contracts";

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

export function generationQueue(modelId: string): Queue<GenerationJob> {
  return queue<GenerationJob>(modelQueueName(modelId), { ...GENERATION_JOB_OPTIONS });
}

export function pregenQueue(): Queue<PregenJob> {
  return queue<PregenJob>(PREGEN_QUEUE, { attempts: 3, backoff: { type: "exponential", delay: 2_000 }, removeOnComplete: 1000, removeOnFail: 1000 });
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

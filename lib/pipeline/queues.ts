import { Queue, type JobsOptions, type JobType } from "bullmq";
import type { Redis } from "ioredis";
import { createRedis, quietWhileAway } from "../redis";
import { GENERATION_JOB_OPTIONS, JUDGE_QUEUE, laneOf, modelQueueName, PREGEN_JOB_OPTIONS, PREGEN_QUEUE, RATINGS_JOB_OPTIONS, RATINGS_QUEUE, type GenerationJob, type GenerationLane, type GenerationPurpose, type JudgeRunJob, type PregenJob, type RatingsJob } from "./contracts";

// Producer side of the queues, shared by the site and the workers. One Redis connection for
// every Queue object; it fails fast so a request never waits on a dead Redis.

type Holder = { leitaiQueueConnection?: Redis; leitaiQueues?: Map<string, Queue> };
const holder = globalThis as unknown as Holder;

function connection(): Redis {
  holder.leitaiQueueConnection ??= quietWhileAway(createRedis({ maxRetriesPerRequest: 1, connectTimeout: 2000 }));
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

export function generationQueue(modelId: string, lane: GenerationLane): Queue<GenerationJob> {
  return queue<GenerationJob>(modelQueueName(modelId, lane), { ...GENERATION_JOB_OPTIONS });
}

/** The queue a generation's job is on. */
export function queueOfGeneration(generation: { modelId: string; purpose: GenerationPurpose }): Queue<GenerationJob> {
  return generationQueue(generation.modelId, laneOf(generation.purpose));
}

/** BullMQ states in which a worker will run (or runs) the job. */
export const PENDING_JOB_STATES: ReadonlySet<string> = new Set(["waiting", "wait", "prioritized", "delayed", "active", "waiting-children", "paused"]);

type Queued = { id: string; modelId: string; purpose: GenerationPurpose };

/**
 * Whether some worker will run this generation: its job waits or runs on either lane (a job
 * queued before pre-generation had a lane of its own sits on the live one).
 */
export async function hasPendingJob(generation: Queued): Promise<{ pending: boolean; state: string }> {
  const states = await Promise.all((["live", "pregen"] as const).map((lane) => generationQueue(generation.modelId, lane).getJobState(generation.id)));
  const own = states[laneOf(generation.purpose) === "live" ? 0 : 1]!;
  return { pending: states.some((s) => PENDING_JOB_STATES.has(s)), state: own };
}

/** Removes these generations' jobs that are not running (a job that runs keeps its lock and stays). */
export async function removeGenerationJobs(generations: Queued[]): Promise<void> {
  await Promise.all(generations.map((g) => queueOfGeneration(g).remove(g.id).catch(() => 0)));
}

/** A model's job counts over both its lanes. */
export async function modelJobCounts(modelId: string, ...states: JobType[]): Promise<Record<string, number>> {
  const [live, pregen] = await Promise.all((["live", "pregen"] as const).map((lane) => generationQueue(modelId, lane).getJobCounts(...states)));
  const out: Record<string, number> = {};
  for (const state of states) out[state] = (live?.[state] ?? 0) + (pregen?.[state] ?? 0);
  return out;
}

export type QueueDepth = { queue: string; model?: string; counts: Record<string, number> };

/**
 * Job counts of every queue a worker serving `models` consumes (arenaQueues: the shared
 * pre-generation, judge and ratings queues, and both lanes of each model, labelled with its slug).
 */
export async function queueDepths(models: { id: string; slug: string }[], states: JobType[]): Promise<QueueDepth[]> {
  return Promise.all(arenaQueues(models).map(async (q) => ({ queue: q.name, model: q.model?.slug, counts: await q.queue.getJobCounts(...states) })));
}

export function pregenQueue(): Queue<PregenJob> {
  return queue<PregenJob>(PREGEN_QUEUE, { ...PREGEN_JOB_OPTIONS });
}

export function ratingsQueue(): Queue<RatingsJob> {
  return queue<RatingsJob>(RATINGS_QUEUE, { ...RATINGS_JOB_OPTIONS });
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

export function judgeQueue(): Queue<JudgeRunJob> {
  return queue<JudgeRunJob>(JUDGE_QUEUE, { ...PREGEN_JOB_OPTIONS });
}

export type ArenaQueueKind = "pregen" | "judge" | "ratings" | "generation";

export type ArenaQueue = {
  name: string;
  /** What an operator calls it: the model's slug and lane for generation queues. */
  label: string;
  kind: ArenaQueueKind;
  model?: { id: string; slug: string; lane: GenerationLane };
  queue: Queue;
};

/**
 * Every queue the arena has, for the admin's views: the fan-out queues, ratings, and each
 * model's two lanes. Next turns of multi-turn questions and judge answers have no queue of
 * their own; they ride the model's pre-generation lane.
 */
export function arenaQueues(models: { id: string; slug: string }[]): ArenaQueue[] {
  const fixed: ArenaQueue[] = [
    { name: PREGEN_QUEUE, label: "pre-generation runs (fan-out)", kind: "pregen", queue: pregenQueue() },
    { name: JUDGE_QUEUE, label: "judge runs (fan-out)", kind: "judge", queue: judgeQueue() },
    { name: RATINGS_QUEUE, label: "rating runs", kind: "ratings", queue: ratingsQueue() },
  ];
  const lanes = models.flatMap((m) => (["live", "pregen"] as const).map((lane): ArenaQueue => ({
    name: modelQueueName(m.id, lane),
    label: `${m.slug} · ${lane === "live" ? "live" : "pre-generation, judge, next turns"}`,
    kind: "generation",
    model: { id: m.id, slug: m.slug, lane },
    queue: generationQueue(m.id, lane),
  })));
  return [...fixed, ...lanes];
}

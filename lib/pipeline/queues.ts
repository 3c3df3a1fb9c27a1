import { Queue, type JobsOptions, type JobType } from "bullmq";
import type { Redis } from "ioredis";
import { serviceUnavailable } from "../errors";
import { createRedis, quietWhileAway } from "../redis";
import type { ChatMessage, GenerationParams, GenerationPurpose } from "./contracts";

// Every queue of the arena, declared once: its name, what its jobs carry and their default
// options. Producers (the site, and the workers' fan-out and reconciler) reach the queues
// through this file and fail fast when Redis is away; the consumers live in workers/.

/** Job on a model's generation queue: run one generation (its id is the job id). */
export type GenerationJob = {
  generationId: string;
  modelId: string;
  purpose: GenerationPurpose;
  messages: ChatMessage[];
  params: GenerationParams;
};

/** Job on PREGEN_QUEUE: fan a pre-generation run out into one generation job per question. */
export type PregenJob = { runId: string };

/** Job on JUDGE_QUEUE: fan a judge run out into one judge generation per question, pair and order. */
export type JudgeRunJob = { runId: string };

/** Job on RATINGS_QUEUE: recompute the rating run (debounced after votes, an admin's request, or owed to votes). */
export type RatingsJob = { reason: "votes" | "admin" | "reconcile" };

/**
 * Two queues per model: live work (voters waiting, admin tests) and pre-generation. Apart, a
 * worker full of waiting pre-generation jobs can still take a live one at once.
 */
export type GenerationLane = "live" | "pregen";

export function laneOf(purpose: GenerationPurpose): GenerationLane {
  // A judge run's judgements wait behind voters like pre-generation does.
  return purpose === "pregen" || purpose === "judge" ? "pregen" : "live";
}

/** BullMQ forbids ":" in queue names. */
export function modelQueueName(modelId: string, lane: GenerationLane): string {
  return lane === "live" ? `generate-${modelId}` : `generate-${modelId}-pregen`;
}

/**
 * Every generation job: retry transient engine failures, keep bounded history. An engine that
 * is down does not spend attempts: the worker waits for it (lib/env's LEITAI_ENGINE_DOWN_WAIT_MS)
 * before it counts one.
 */
export const GENERATION_JOB_OPTIONS = {
  attempts: 3,
  backoff: { type: "exponential", delay: 2_000 },
  removeOnComplete: { age: 24 * 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600, count: 10_000 },
} as const;

/**
 * A crashed worker's job is handed to another after a stall; a second crash (or a Redis restart
 * right after the first) must not fail it for good.
 */
export const MAX_STALLED_COUNT = 3;

export const PREGEN_QUEUE = "pregen";
export const JUDGE_QUEUE = "judge-runs";
export const RATINGS_QUEUE = "ratings";

/** A fan-out job is safe to run twice, so a failed one is retried. */
const FAN_OUT_JOB_OPTIONS = {
  attempts: 3,
  backoff: { type: "exponential", delay: 2_000 },
  removeOnComplete: 1000,
  removeOnFail: 1000,
} as const;

/** The payload of each queue the whole arena shares (one each, not one per model). */
export type SharedJobs = { pregen: PregenJob; judge: JudgeRunJob; ratings: RatingsJob };

type SharedQueue = { name: string; label: string; jobOptions: JobsOptions };

export const SHARED_QUEUES: Record<keyof SharedJobs, SharedQueue> = {
  pregen: { name: PREGEN_QUEUE, label: "pre-generation runs (fan-out)", jobOptions: FAN_OUT_JOB_OPTIONS },
  judge: { name: JUDGE_QUEUE, label: "judge runs (fan-out)", jobOptions: FAN_OUT_JOB_OPTIONS },
  ratings: { name: RATINGS_QUEUE, label: "rating runs", jobOptions: { removeOnComplete: 100, removeOnFail: 100 } },
};

/** How long a producer's command may wait for Redis to answer before it rejects. */
export const PRODUCER_TIMEOUT_MS = 3_000;

type Holder = { leitaiQueueConnection?: Redis; leitaiQueues?: Map<string, Queue> };
const holder = globalThis as unknown as Holder;

/**
 * Opens this process's producer connection, one for every Queue object: to REDIS_URL, or to
 * `url` (tests point it at a Redis that is away). It fails fast: a command rejects after one
 * failed reconnect, or after PRODUCER_TIMEOUT_MS without an answer, so a request never hangs
 * on the queue. Replacing an open connection takes closeQueues() first.
 */
export function connectQueues(url?: string): Redis {
  if (holder.leitaiQueueConnection && url !== undefined) throw new Error("the queues are connected already: closeQueues() first");
  holder.leitaiQueueConnection ??= quietWhileAway(createRedis({ maxRetriesPerRequest: 1, connectTimeout: 2000, commandTimeout: PRODUCER_TIMEOUT_MS }, url));
  return holder.leitaiQueueConnection;
}

function queue<T>(name: string, defaultJobOptions: JobsOptions): Queue<T> {
  holder.leitaiQueues ??= new Map();
  const queues = holder.leitaiQueues;
  let q = queues.get(name);
  if (!q) {
    // BullMQ would otherwise wait, with no bound, for Redis to be ready before a queue's first
    // command; this way that command fails fast like any other. A queue that could not start
    // never works, so it is dropped and the next call makes a new one.
    const created = new Queue(name, { connection: connectQueues(), defaultJobOptions, skipWaitingForReady: true });
    created.on("error", () => undefined); // the connection logs an outage once (quietWhileAway)
    created.waitUntilReady().catch(() => {
      if (queues.get(name) === created) queues.delete(name);
      void created.close().catch(() => undefined);
    });
    queues.set(name, created);
    q = created;
  }
  return q as Queue<T>;
}

/**
 * Resolves when the queues' Redis answers, else rejects fast with a 503 unavailable:queue.
 * Callers that must not record work they cannot queue ask first.
 */
export async function queuesReachable(): Promise<void> {
  try {
    await connectQueues().ping();
  } catch (error) {
    throw serviceUnavailable(error) ?? error;
  }
}

export function generationQueue(modelId: string, lane: GenerationLane): Queue<GenerationJob> {
  return queue<GenerationJob>(modelQueueName(modelId, lane), { ...GENERATION_JOB_OPTIONS });
}

/** The queue a generation's job is on. */
export function queueOfGeneration(generation: { modelId: string; purpose: GenerationPurpose }): Queue<GenerationJob> {
  return generationQueue(generation.modelId, laneOf(generation.purpose));
}

export function sharedQueue<K extends keyof SharedJobs>(kind: K): Queue<SharedJobs[K]> {
  const { name, jobOptions } = SHARED_QUEUES[kind];
  return queue<SharedJobs[K]>(name, { ...jobOptions });
}

export const pregenQueue = (): Queue<PregenJob> => sharedQueue("pregen");
export const judgeQueue = (): Queue<JudgeRunJob> => sharedQueue("judge");
export const ratingsQueue = (): Queue<RatingsJob> => sharedQueue("ratings");

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
 * queues, and both lanes of each model, labelled with its slug).
 */
export async function queueDepths(models: { id: string; slug: string }[], states: JobType[]): Promise<QueueDepth[]> {
  return Promise.all(arenaQueues(models).map(async (q) => ({ queue: q.name, model: q.model?.slug, counts: await q.queue.getJobCounts(...states) })));
}

/** Closes this process's producer queues and their connection (tests, scripts, a worker's shutdown). */
export async function closeQueues(): Promise<void> {
  const queues = [...(holder.leitaiQueues?.values() ?? [])];
  holder.leitaiQueues = undefined;
  await Promise.all(queues.map((q) => q.close().catch(() => undefined)));
  const conn = holder.leitaiQueueConnection;
  holder.leitaiQueueConnection = undefined;
  await conn?.quit().catch(() => undefined);
}

export type ArenaQueueKind = keyof SharedJobs | "generation";

export type ArenaQueue = {
  name: string;
  /** What an operator calls it: the model's slug and lane for generation queues. */
  label: string;
  kind: ArenaQueueKind;
  model?: { id: string; slug: string; lane: GenerationLane };
  queue: Queue;
};

/**
 * Every queue the arena has, for the admin's views: the shared queues (fan-out, ratings) and
 * each model's two lanes. Next turns of multi-turn questions and judge answers have no queue of
 * their own; they ride the model's pre-generation lane.
 */
export function arenaQueues(models: { id: string; slug: string }[]): ArenaQueue[] {
  const shared = (Object.keys(SHARED_QUEUES) as (keyof SharedJobs)[]).map((kind): ArenaQueue => ({
    name: SHARED_QUEUES[kind].name,
    label: SHARED_QUEUES[kind].label,
    kind,
    queue: sharedQueue(kind),
  }));
  const lanes = models.flatMap((m) => (["live", "pregen"] as const).map((lane): ArenaQueue => ({
    name: modelQueueName(m.id, lane),
    label: `${m.slug} · ${lane === "live" ? "live" : "pre-generation, judge, next turns"}`,
    kind: "generation",
    model: { id: m.id, slug: m.slug, lane },
    queue: generationQueue(m.id, lane),
  })));
  return [...shared, ...lanes];
}

import type { Model } from "@prisma/client";
import { Worker, type Job } from "bullmq";
import type { Redis } from "ioredis";
import { db } from "../lib/db";
import { log } from "../lib/log";
import { CANCEL_CHANNEL, HEARTBEAT, modelQueueName, PREGEN_QUEUE, type GenerationJob, type PregenJob } from "../lib/pipeline/contracts";
import type { EngineTimeouts } from "../lib/pipeline/engine-client";
import { normaliseRuntimeUrl, runtimeUrlOf } from "../lib/pipeline/engine-target";
import { removeHeartbeat, writeHeartbeat } from "../lib/pipeline/health";
import { PipelineMetrics, type JobCountsByModel } from "../lib/pipeline/metrics";
import { fanOutPregen } from "../lib/pipeline/pregen";
import { generationQueue } from "../lib/pipeline/queues";
import { createRedis } from "../lib/redis";
import { markFailed, processGeneration, type AbortReason, type GenerationContext } from "./generate";

// The generation workers of one process: a BullMQ worker per served model (its concurrency
// sized to the engine's batch), the pre-generation fan-out, heartbeats and cancel broadcasts.

export type PoolOptions = {
  workerId: string;
  /** Model slugs to serve; empty = every active model. */
  models: string[];
  refreshMs: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  /** Used when the engine does not report how many sequences it batches. */
  defaultConcurrency: number;
  /** For local models when the runtime does not report it: the supervised runtime's --max-num-seqs. */
  localConcurrency?: number;
  timeouts: EngineTimeouts;
  /** Also run PREGEN_QUEUE fan-out jobs. */
  pregen?: boolean;
  heartbeatMs?: number;
};

type Served = { model: Model; worker: Worker<GenerationJob>; concurrency: number; inFlight: Set<string>; lastError: string | null };

const JOB_STATES = ["waiting", "prioritized", "delayed", "active", "completed", "failed"] as const;

/** The runtime's batch size, when it reports one (max_num_seqs in /health or /v1/models). */
async function engineBatchSize(model: Model): Promise<number | null> {
  const base = runtimeUrlOf(model);
  if (!base) return null;
  for (const path of ["/health", "/v1/models"]) {
    try {
      const res = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(2000) });
      if (!res.ok) continue;
      const body = (await res.json()) as { max_num_seqs?: unknown; data?: { id?: string; max_num_seqs?: unknown }[] };
      const value = body.max_num_seqs ?? body.data?.find((m) => m.max_num_seqs !== undefined)?.max_num_seqs;
      if (typeof value === "number" && value > 0) return value;
    } catch {
      // not up yet or no such field: fall back to the default
    }
  }
  return null;
}

export class GenerationWorkers {
  readonly metrics = new PipelineMetrics();
  private readonly served = new Map<string, Served>();
  private readonly running = new Map<string, AbortController>();
  private readonly connection: Redis;
  private readonly commands: Redis;
  private readonly subscriber: Redis;
  private pregenWorker: Worker<PregenJob> | null = null;
  private timers: NodeJS.Timeout[] = [];
  private closing = false;
  private refreshing: Promise<void> = Promise.resolve();
  /** Runtimes being restarted: models added meanwhile start paused too. */
  private readonly paused = new Set<string>();
  readonly context: GenerationContext;

  constructor(private readonly options: PoolOptions) {
    this.connection = createRedis({ maxRetriesPerRequest: null });
    this.commands = createRedis({ maxRetriesPerRequest: null });
    this.subscriber = createRedis({ maxRetriesPerRequest: null });
    for (const conn of [this.connection, this.commands, this.subscriber]) conn.on("error", (e) => log.warn("worker:redis", e));
    this.context = {
      redis: this.commands,
      timeouts: options.timeouts,
      metrics: this.metrics,
      running: this.running,
      onEngineError: (modelId, message) => {
        const served = this.served.get(modelId);
        if (served) served.lastError = message;
      },
    };
  }

  get modelIds(): string[] {
    return [...this.served.keys()];
  }

  async start(): Promise<void> {
    this.subscriber.on("message", (_channel: string, generationId: string) => this.abort(generationId, "cancel"));
    await this.subscriber.subscribe(CANCEL_CHANNEL);
    await this.refresh();
    if (this.options.pregen !== false) {
      this.pregenWorker = new Worker<PregenJob>(PREGEN_QUEUE, (job) => fanOutPregen(job.data.runId), {
        connection: this.connection, concurrency: 1, name: this.options.workerId,
        lockDuration: this.options.lockDurationMs, stalledInterval: this.options.stalledIntervalMs,
      });
      this.pregenWorker.on("error", (e) => log.warn("worker:pregen", e));
    }
    await this.heartbeat();
    this.timers.push(setInterval(() => void this.heartbeat().catch((e) => log.warn("worker:heartbeat", e)), this.options.heartbeatMs ?? HEARTBEAT.intervalMs));
    this.timers.push(setInterval(() => void this.refresh().catch((e) => log.warn("worker:refresh", e)), this.options.refreshMs));
  }

  private abort(generationId: string, reason: AbortReason) {
    this.running.get(generationId)?.abort(reason);
  }

  /** Re-reads the model list: new models get a consumer, disabled ones lose theirs. */
  refresh(): Promise<void> {
    this.refreshing = this.refreshing.then(() => this.refreshNow());
    return this.refreshing;
  }

  private async refreshNow(): Promise<void> {
    if (this.closing) return;
    const slugs = this.options.models;
    const models = await db.model.findMany({ where: { status: "active", ...(slugs.length ? { slug: { in: slugs } } : {}) } });
    const wanted = new Set(models.map((m) => m.id));
    for (const [id, served] of this.served) {
      if (!wanted.has(id)) {
        this.served.delete(id);
        log.info("worker:model-removed", { model: served.model.slug });
        await served.worker.close();
        await removeHeartbeat(this.commands, id, this.options.workerId).catch(() => undefined);
      }
    }
    for (const model of models) {
      const existing = this.served.get(model.id);
      if (existing) {
        existing.model = model; // engine settings may have changed; jobs read the row anyway
        continue;
      }
      const concurrency = (await engineBatchSize(model))
        ?? (model.kind === "local" ? this.options.localConcurrency : undefined)
        ?? this.options.defaultConcurrency;
      const served: Served = { model, worker: undefined as unknown as Worker<GenerationJob>, concurrency, inFlight: new Set(), lastError: null };
      served.worker = this.consume(served);
      if (this.paused.has(runtimeUrlOf(model) ?? "")) await served.worker.pause(true);
      this.served.set(model.id, served);
      log.info("worker:model-added", { model: model.slug, concurrency });
    }
  }

  private consume(served: Served): Worker<GenerationJob> {
    const handle = async (job: Job<GenerationJob>) => {
      served.inFlight.add(job.data.generationId);
      try {
        return await processGeneration(job, this.context);
      } finally {
        served.inFlight.delete(job.data.generationId);
      }
    };
    const worker = new Worker<GenerationJob>(modelQueueName(served.model.id), handle, {
      connection: this.connection,
      concurrency: served.concurrency,
      name: this.options.workerId,
      lockDuration: this.options.lockDurationMs,
      stalledInterval: this.options.stalledIntervalMs,
      maxStalledCount: 1,
    });
    worker.on("error", (e) => log.warn("worker:bullmq", e));
    // A stalled lock (an event loop blocked too long) means the job was handed to another
    // worker: stop writing its stream at once.
    worker.on("lockRenewalFailed", (jobIds: string[]) => {
      for (const id of jobIds) this.abort(id, "lost");
    });
    worker.on("failed", (job, error) => void this.onFailed(job, error).catch((e) => log.warn("worker:failed-handler", e)));
    return worker;
  }

  /** A job that has no attempts left (a dead worker's too) must not leave its row running. */
  private async onFailed(job: Job<GenerationJob> | undefined, error: Error): Promise<void> {
    if (!job) return;
    if ((await job.getState()) !== "failed") return;
    await markFailed(this.commands, job.data.generationId, error.message || "the generation failed");
  }

  /**
   * Before the runtime at `runtimeUrl` restarts: its models take no new jobs, running ones get
   * `deadlineMs` to finish, then are aborted and go back to the queue. Undone by resumeRuntime().
   */
  async drainRuntime(runtimeUrl: string, deadlineMs: number): Promise<void> {
    const base = normaliseRuntimeUrl(runtimeUrl);
    const on = [...this.served.values()].filter((s) => runtimeUrlOf(s.model) === base);
    this.paused.add(base);
    await Promise.all(on.map((s) => s.worker.pause(true)));
    const deadline = Date.now() + deadlineMs;
    while (on.some((s) => s.inFlight.size > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    for (const s of on) for (const id of s.inFlight) this.abort(id, "shutdown");
    while (on.some((s) => s.inFlight.size > 0)) await new Promise((r) => setTimeout(r, 50));
  }

  async resumeRuntime(runtimeUrl: string): Promise<void> {
    const base = normaliseRuntimeUrl(runtimeUrl);
    this.paused.delete(base);
    await Promise.all([...this.served.values()].filter((s) => runtimeUrlOf(s.model) === base).map((s) => s.worker.resume()));
  }

  async heartbeat(now = Date.now()): Promise<void> {
    for (const [modelId, served] of this.served) {
      const counts = await generationQueue(modelId).getJobCounts("waiting", "prioritized", "delayed");
      await writeHeartbeat(this.commands, {
        workerId: this.options.workerId,
        modelId,
        lastSeen: now,
        queueDepth: (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0),
        running: served.inFlight.size,
        tokensPerSecond: this.metrics.tokensPerSecond(served.model.slug, now),
        lastError: served.lastError,
      });
    }
  }

  async renderMetrics(): Promise<string> {
    const jobs: JobCountsByModel = new Map();
    for (const [modelId, served] of this.served) {
      jobs.set(served.model.slug, await generationQueue(modelId).getJobCounts(...JOB_STATES));
    }
    return this.metrics.render(jobs);
  }

  /**
   * Stops taking jobs; running ones get `deadlineMs` to finish, then are aborted and go back to
   * the queue (another worker retries them).
   */
  async close(deadlineMs: number): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    for (const t of this.timers) clearInterval(t);
    await this.refreshing.catch(() => undefined);
    const workers = [...this.served.values()].map((s) => s.worker);
    if (this.pregenWorker) workers.push(this.pregenWorker as unknown as Worker<GenerationJob>);
    const graceful = Promise.all(workers.map((w) => w.close()));
    const deadline = new Promise<"late">((resolve) => setTimeout(() => resolve("late"), deadlineMs).unref());
    if ((await Promise.race([graceful, deadline])) === "late") {
      log.warn("worker:shutdown-deadline", { aborting: this.running.size });
      for (const controller of this.running.values()) controller.abort("shutdown" satisfies AbortReason);
      await graceful;
    }
    await Promise.all([...this.served.keys()].map((id) => removeHeartbeat(this.commands, id, this.options.workerId).catch(() => undefined)));
    await Promise.all([this.connection, this.commands, this.subscriber].map((c) => c.quit().catch(() => undefined)));
  }
}

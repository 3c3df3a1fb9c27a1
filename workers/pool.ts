import type { Model } from "@prisma/client";
import { Worker, type Job } from "bullmq";
import type { Redis } from "ioredis";
import { db } from "../lib/db";
import { log } from "../lib/log";
import { CANCEL_CHANNEL, HEARTBEAT } from "../lib/pipeline/contracts";
import type { EngineTimeouts } from "../lib/pipeline/engine-client";
import { normaliseRuntimeUrl, runtimeUrlOf } from "../lib/pipeline/engine-target";
import { removeHeartbeat, writeHeartbeat } from "../lib/pipeline/health";
import { PipelineMetrics } from "../lib/pipeline/metrics";
import { failGeneration } from "../lib/pipeline/generation-state";
import { MAX_STALLED_COUNT, modelJobCounts, modelQueueName, queueDepths, type GenerationJob, type GenerationLane } from "../lib/pipeline/queues";
import { failedByQueue, reconcileGenerations } from "../lib/pipeline/reconcile";
import { createRedis, quietWhileAway } from "../lib/redis";
import { EngineMonitor, engineKeyOf, EngineSlots, probeUrlOf, reservedLiveSlots } from "./engines";
import { startFanOutWorkers } from "./fan-out";
import { processGeneration, type AbortReason, type GenerationContext } from "./generate";

// The generation workers of one process: two BullMQ workers per served model (live and
// pre-generation lanes) sharing the engine's slots, the fan-out consumers (fan-out.ts),
// heartbeats, cancel broadcasts and the reconciler that brings Redis back in line with PostgreSQL.

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
  /** Also run the fan-out jobs of pre-generation and judge runs (fan-out.ts). */
  pregen?: boolean;
  heartbeatMs?: number;
  /** How long a job waits for an engine that is down before it spends an attempt (default 5 min). */
  engineDownWaitMs?: number;
  /** Engine slots pre-generation leaves to live work; 0 or unset: a quarter of the batch. */
  liveReservedSlots?: number;
  /** How often generations without a job are re-enqueued (default 60 s); also at start and after Redis reconnects. */
  reconcileMs?: number;
};

type Served = {
  model: Model;
  workers: Record<GenerationLane, Worker<GenerationJob>>;
  /** The engine model's slots, shared with the arena models it serves under the same name. */
  slots: EngineSlots;
  inFlight: Set<string>;
  lastError: string | null;
};

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
  readonly metrics = new PipelineMetrics({ queueDepths: (states) => queueDepths([...this.served.values()].map((s) => s.model), states) });
  readonly engines = new EngineMonitor();
  private readonly served = new Map<string, Served>();
  private readonly slots = new Map<string, EngineSlots>();
  private readonly running = new Map<string, AbortController>();
  private readonly connection: Redis;
  private readonly commands: Redis;
  private readonly subscriber: Redis;
  private fanOutWorkers: Worker[] = [];
  private timers: NodeJS.Timeout[] = [];
  private closing = false;
  private refreshing: Promise<void> = Promise.resolve();
  private reconciling: Promise<unknown> | null = null;
  /** Runtimes being restarted: models added meanwhile start paused too. */
  private readonly paused = new Set<string>();
  readonly context: GenerationContext;

  constructor(private readonly options: PoolOptions) {
    this.connection = createRedis({ maxRetriesPerRequest: null });
    this.commands = createRedis({ maxRetriesPerRequest: null });
    this.subscriber = createRedis({ maxRetriesPerRequest: null });
    for (const conn of [this.connection, this.commands, this.subscriber]) quietWhileAway(conn, "worker:redis");
    this.context = {
      redis: this.commands,
      timeouts: options.timeouts,
      metrics: this.metrics,
      running: this.running,
      onEngineError: (modelId, message) => {
        const served = this.served.get(modelId);
        if (served) served.lastError = message;
      },
      engines: this.engines,
      slotsOf: (model) => this.served.get(model.id)?.slots ?? this.slotsOf(model, this.options.defaultConcurrency),
      engineDownWaitMs: options.engineDownWaitMs ?? 300_000,
    };
  }

  get modelIds(): string[] {
    return [...this.served.keys()];
  }

  /** Served models whose engine does not answer (readiness reports them; live battles skip them). */
  get enginesDown(): string[] {
    return [...this.served.values()].filter((s) => !this.engines.isUp(probeUrlOf(s.model))).map((s) => s.model.slug);
  }

  /** Arena models served under one engine name share its batch: one set of slots per engine model. */
  private slotsOf(model: Model, capacity: number): EngineSlots {
    const key = engineKeyOf(model);
    let slots = this.slots.get(key);
    if (!slots) {
      slots = new EngineSlots(capacity, reservedLiveSlots(capacity, this.options.liveReservedSlots));
      this.slots.set(key, slots);
    }
    return slots;
  }

  async start(): Promise<void> {
    this.subscriber.on("message", (_channel: string, generationId: string) => this.abort(generationId, "cancel"));
    await this.subscriber.subscribe(CANCEL_CHANNEL);
    await this.refresh();
    if (this.options.pregen !== false) {
      this.fanOutWorkers = startFanOutWorkers({
        connection: this.connection, workerId: this.options.workerId,
        lockDurationMs: this.options.lockDurationMs, stalledIntervalMs: this.options.stalledIntervalMs,
      });
      for (const worker of this.fanOutWorkers) this.metrics.observeJobs(worker);
    }
    await this.heartbeat();
    this.timers.push(setInterval(() => void this.heartbeat().catch((e) => log.warn("worker:heartbeat", e)), this.options.heartbeatMs ?? HEARTBEAT.intervalMs));
    this.timers.push(setInterval(() => void this.refresh().catch((e) => log.warn("worker:refresh", e)), this.options.refreshMs));
    this.timers.push(setInterval(() => void this.reconcile(), this.options.reconcileMs ?? 60_000));
    // In the background: a large backlog must not hold up heartbeats or readiness.
    void this.reconcile();
    // Back from a Redis restart or wipe: whatever the record still calls open gets its job back.
    this.commands.on("ready", () => void this.reconcile());
  }

  /** One pass of the reconciler over this worker's models (never two at once in one process). */
  reconcile(): Promise<unknown> {
    if (this.closing) return Promise.resolve();
    this.reconciling ??= reconcileGenerations(this.commands, { modelIds: this.modelIds, pregen: this.options.pregen !== false })
      .catch((e) => log.warn("worker:reconcile", e))
      .finally(() => {
        this.reconciling = null;
      });
    return this.reconciling;
  }

  private abort(generationId: string, reason: AbortReason) {
    this.running.get(generationId)?.abort(reason);
  }

  private eachWorker(served: Served[]): Worker<GenerationJob>[] {
    return served.flatMap((s) => [s.workers.live, s.workers.pregen]);
  }

  /** Re-reads the model list: new models get a consumer, disabled ones lose theirs. */
  refresh(): Promise<void> {
    // One failed refresh (the database away a moment) must not stop every later one.
    this.refreshing = this.refreshing.catch(() => undefined).then(() => this.refreshNow());
    return this.refreshing;
  }

  private async refreshNow(): Promise<void> {
    if (this.closing) return;
    const slugs = this.options.models;
    // Offline models have no engine: their answers are imported, never generated.
    const models = await db.model.findMany({ where: { status: "active", kind: { not: "offline" }, ...(slugs.length ? { slug: { in: slugs } } : {}) } });
    const wanted = new Set(models.map((m) => m.id));
    for (const [id, served] of this.served) {
      if (!wanted.has(id)) {
        this.served.delete(id);
        log.info("worker:model-removed", { model: served.model.slug });
        await Promise.all(this.eachWorker([served]).map((w) => w.close()));
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
      const slots = this.slotsOf(model, concurrency);
      const served: Served = { model, workers: undefined as unknown as Served["workers"], slots, inFlight: new Set(), lastError: null };
      // Live takes every slot; pre-generation jobs beyond its share wait in its own lane.
      served.workers = { live: this.consume(served, "live", slots.capacity), pregen: this.consume(served, "pregen", slots.capacity - slots.reserved) };
      if (this.paused.has(runtimeUrlOf(model) ?? "")) await Promise.all(this.eachWorker([served]).map((w) => w.pause(true)));
      this.served.set(model.id, served);
      log.info("worker:model-added", { model: model.slug, concurrency: slots.capacity, reservedForLive: slots.reserved });
    }
  }

  private consume(served: Served, lane: GenerationLane, concurrency: number): Worker<GenerationJob> {
    const handle = async (job: Job<GenerationJob>) => {
      served.inFlight.add(job.data.generationId);
      try {
        return await processGeneration(job, this.context);
      } finally {
        served.inFlight.delete(job.data.generationId);
      }
    };
    const worker = new Worker<GenerationJob>(modelQueueName(served.model.id, lane), handle, {
      connection: this.connection,
      concurrency: Math.max(1, concurrency),
      name: this.options.workerId,
      lockDuration: this.options.lockDurationMs,
      stalledInterval: this.options.stalledIntervalMs,
      maxStalledCount: MAX_STALLED_COUNT,
    });
    worker.on("error", (e) => log.warn("worker:bullmq", e));
    this.metrics.observeJobs(worker, served.model.slug);
    // A stalled lock (an event loop blocked too long, Redis gone) means the job may be handed
    // to another worker: stop writing its stream at once.
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
    // Failed by BullMQ for stalling or a lost lock: the reconciler runs it again.
    if (failedByQueue(error.message)) return void this.reconcile();
    await failGeneration(this.commands, job.data.generationId, error.message || "the generation failed");
  }

  /**
   * Before the runtime at `runtimeUrl` restarts: its models take no new jobs, running ones get
   * `deadlineMs` to finish, then are aborted and go back to the queue. Undone by resumeRuntime().
   */
  async drainRuntime(runtimeUrl: string, deadlineMs: number): Promise<void> {
    const base = normaliseRuntimeUrl(runtimeUrl);
    const on = [...this.served.values()].filter((s) => runtimeUrlOf(s.model) === base);
    this.paused.add(base);
    await Promise.all(this.eachWorker(on).map((w) => w.pause(true)));
    const deadline = Date.now() + deadlineMs;
    while (on.some((s) => s.inFlight.size > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    for (const s of on) for (const id of s.inFlight) this.abort(id, "shutdown");
    while (on.some((s) => s.inFlight.size > 0)) await new Promise((r) => setTimeout(r, 50));
  }

  async resumeRuntime(runtimeUrl: string): Promise<void> {
    const base = normaliseRuntimeUrl(runtimeUrl);
    this.paused.delete(base);
    const on = [...this.served.values()].filter((s) => runtimeUrlOf(s.model) === base);
    await Promise.all(this.eachWorker(on).map((w) => w.resume()));
  }

  async heartbeat(now = Date.now()): Promise<void> {
    // Runtimes are asked every beat (a dead one must leave live matchmaking before a voter
    // meets it); other engines once they have failed, until they answer again.
    const probes = new Set<string>();
    for (const served of this.served.values()) {
      const url = probeUrlOf(served.model);
      if (url && (served.model.kind === "local" || !this.engines.isUp(url))) probes.add(url);
    }
    await Promise.all([...probes].map((url) => this.engines.probe(url)));
    for (const [modelId, served] of this.served) {
      const counts = await modelJobCounts(modelId, "waiting", "prioritized", "delayed");
      await writeHeartbeat(this.commands, {
        workerId: this.options.workerId,
        modelId,
        lastSeen: now,
        queueDepth: (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0),
        running: served.inFlight.size,
        tokensPerSecond: this.metrics.tokensPerSecond(served.model.slug, now),
        lastError: served.lastError,
        engineUp: this.engines.isUp(probeUrlOf(served.model)),
      });
    }
  }

  renderMetrics(): Promise<string> {
    return this.metrics.render();
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
    await this.reconciling;
    const workers: Worker[] = [...this.eachWorker([...this.served.values()]), ...this.fanOutWorkers];
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

import type { JobType, Worker } from "bullmq";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { log } from "../log";
import { createRegistry } from "../metrics";
import type { QueueDepth } from "./queues";

// A worker's Prometheus metrics: its queues' depths (read from Redis at scrape time), the
// outcomes of the jobs it ran, and per model how soon answers start and how long they take.

/** States a queue's depth is reported in; completed jobs are counted by outcome instead. */
export const QUEUE_DEPTH_STATES = ["waiting", "prioritized", "delayed", "active", "failed"] as const satisfies readonly JobType[];
const FIRST_TOKEN_BUCKETS_S = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const DURATION_BUCKETS_S = [0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600];
const RATE_WINDOW_MS = 10_000;

export type PipelineMetricsOptions = {
  /** The queues this worker consumes, counted in QUEUE_DEPTH_STATES; none without it. */
  queueDepths?: (states: JobType[]) => Promise<QueueDepth[]>;
  registry?: Registry;
};

export class PipelineMetrics {
  readonly registry: Registry;
  private readonly firstToken: Histogram<"model">;
  private readonly duration: Histogram<"model">;
  private readonly tokens: Counter<"model">;
  private readonly engineErrors: Counter<"model" | "kind">;
  private readonly finished: Counter<"queue" | "model" | "outcome">;
  /** Recent (time, tokens) samples per model: the heartbeat's tokens per second (admin pages). */
  private readonly recent = new Map<string, { at: number; tokens: number }[]>();

  constructor({ queueDepths, registry = createRegistry() }: PipelineMetricsOptions = {}) {
    this.registry = registry;
    const registers = [registry];
    this.firstToken = new Histogram({
      name: "leitai_generation_first_token_seconds",
      help: "From the engine request to the first token of an answer, per model.",
      labelNames: ["model"] as const, buckets: FIRST_TOKEN_BUCKETS_S, registers,
    });
    this.duration = new Histogram({
      name: "leitai_generation_duration_seconds",
      help: "From the engine request to the last token of a completed answer, per model.",
      labelNames: ["model"] as const, buckets: DURATION_BUCKETS_S, registers,
    });
    this.tokens = new Counter({ name: "leitai_generated_tokens_total", help: "Streamed tokens, per model.", labelNames: ["model"] as const, registers });
    this.engineErrors = new Counter({ name: "leitai_engine_errors_total", help: "Engine failures by kind, per model.", labelNames: ["model", "kind"] as const, registers });
    this.finished = new Counter({
      name: "leitai_queue_jobs_finished_total",
      help: "Jobs this worker ran, by queue and outcome: completed, retried (an attempt failed, another follows) or failed (for good).",
      labelNames: ["queue", "model", "outcome"] as const, registers,
    });
    new Gauge({
      name: "leitai_queue_jobs",
      help: "Jobs in each queue this worker consumes, by state; read from Redis at scrape time.",
      labelNames: ["queue", "model", "state"] as const, registers,
      async collect() {
        this.reset();
        if (!queueDepths) return;
        try {
          for (const { queue, model, counts } of await queueDepths([...QUEUE_DEPTH_STATES])) {
            for (const state of QUEUE_DEPTH_STATES) this.set({ queue, state, ...(model ? { model } : {}) }, counts[state] ?? 0);
          }
        } catch (error) {
          // Redis away: the depths go missing from this scrape rather than failing all of it.
          log.warn("metrics:queue-depths", error);
        }
      },
    });
  }

  observeTtft(model: string, seconds: number): void {
    this.firstToken.observe({ model }, seconds);
  }

  observeDuration(model: string, seconds: number): void {
    this.duration.observe({ model }, seconds);
  }

  addTokens(model: string, tokens: number, now = Date.now()): void {
    this.tokens.inc({ model }, tokens);
    let samples = this.recent.get(model);
    if (!samples) this.recent.set(model, (samples = []));
    samples.push({ at: now, tokens });
    while (samples.length && samples[0]!.at < now - RATE_WINDOW_MS) samples.shift();
  }

  tokensPerSecond(model: string, now = Date.now()): number {
    const samples = this.recent.get(model) ?? [];
    const tokens = samples.filter((s) => s.at >= now - RATE_WINDOW_MS).reduce((n, s) => n + s.tokens, 0);
    return tokens / (RATE_WINDOW_MS / 1000);
  }

  engineError(model: string, kind: string): void {
    this.engineErrors.inc({ model, kind });
  }

  /** Counts the outcome of every job `worker` runs; `model`: the slug, for a model's queue. */
  observeJobs(worker: Worker, model?: string): void {
    const labels = { queue: worker.name, ...(model ? { model } : {}) };
    worker.on("completed", () => this.finished.inc({ ...labels, outcome: "completed" }));
    // BullMQ sets finishedOn only when the job has no attempt left.
    worker.on("failed", (job) => this.finished.inc({ ...labels, outcome: !job || job.finishedOn ? "failed" : "retried" }));
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}

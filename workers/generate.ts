import type { Model } from "@prisma/client";
import { UnrecoverableError, type Job } from "bullmq";
import type { Redis } from "ioredis";
import { db } from "../lib/db";
import { log } from "../lib/log";
import { ENGINE_PRIORITY, generationCancelKey, laneOf, type ChatMessage, type GenerationJob, type GenerationParams, type GenerationUsage } from "../lib/pipeline/contracts";
import { EngineError, streamChatCompletion, type EngineTarget, type EngineTimeouts } from "../lib/pipeline/engine-client";
import { EngineConfigError, engineMessagesOf, engineTargetOf } from "../lib/pipeline/engine-target";
import { attemptStream, cancelGenerationRow, completeAttempt, failGeneration, requeueAttempt, startAttempt } from "../lib/pipeline/generation-state";
import type { PipelineMetrics } from "../lib/pipeline/metrics";
import { settlePregenRun } from "../lib/pipeline/pregen";
import type { StreamWriter } from "../lib/pipeline/stream-log";
import { probeUrlOf, type EngineMonitor, type EngineSlots } from "./engines";

// One generation job: call the model's engine with streaming, publish every chunk, and write
// the result to the row at the end. Every status change goes through generation-state.

/** cancel: by the site; shutdown: the worker is stopping; lost: BullMQ gave the job to another worker. */
export type AbortReason = "cancel" | "shutdown" | "lost";

export type GenerationContext = {
  redis: Redis;
  timeouts: EngineTimeouts;
  metrics: PipelineMetrics;
  /** Running generations of this process, so a cancel broadcast or shutdown can abort them. */
  running: Map<string, AbortController>;
  /** Records the latest engine failure per model for the heartbeat. */
  onEngineError: (modelId: string, message: string) => void;
  engines: EngineMonitor;
  /** The slots of the engine model this arena model runs on. */
  slotsOf: (model: Model) => EngineSlots;
  /** How long one job waits, in all, for an engine that is down before it spends an attempt. */
  engineDownWaitMs: number;
};

function isLastAttempt(job: Job): boolean {
  return job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}

export async function processGeneration(job: Job<GenerationJob>, ctx: GenerationContext): Promise<string> {
  const id = job.data.generationId;
  const generation = await db.generation.findUnique({ where: { id }, include: { model: true } });
  if (!generation) throw new UnrecoverableError(`generation ${id} does not exist`);
  if (generation.status !== "queued" && generation.status !== "running") return generation.status;
  try {
    return await run(job, ctx, generation, generation.model);
  } finally {
    if (generation.pregenRunId) await settlePregenRun(generation.pregenRunId).catch((e) => log.warn("pregen:settle", e));
  }
}

/** writer: the attempt's stream, when it got as far as opening one. */
type Attempt = { kind: "completed" } | { kind: "cancelled" } | { kind: "error"; error: unknown; writer?: StreamWriter };

async function run(
  job: Job<GenerationJob>,
  ctx: GenerationContext,
  generation: { id: string; purpose: GenerationJob["purpose"]; messages: unknown; params: unknown },
  model: Model,
): Promise<string> {
  const id = generation.id;
  if (await ctx.redis.exists(generationCancelKey(id))) {
    await cancelGenerationRow(ctx.redis, id);
    return "cancelled";
  }
  let target: EngineTarget;
  try {
    target = engineTargetOf(model);
  } catch (error) {
    const detail = error instanceof EngineConfigError ? error.message : String(error);
    await failGeneration(ctx.redis, id, detail);
    throw new UnrecoverableError(detail);
  }
  // Our runtime schedules by priority (live first, pre-generation preemptible); other engines
  // may refuse a field they do not know.
  if (model.kind === "local") target = { ...target, priority: ENGINE_PRIORITY[generation.purpose] };
  const probeUrl = probeUrlOf(model);
  const engineDownDeadline = Date.now() + ctx.engineDownWaitMs;
  const controller = new AbortController();
  ctx.running.set(id, controller);
  try {
    for (;;) {
      const outcome = await attempt(ctx, model, target, generation, controller);
      if (outcome.kind === "completed") return "completed";
      if (outcome.kind === "cancelled") return "cancelled";
      // An engine that is down (stopped, restarting) is waited for without spending an attempt.
      const { error, writer } = outcome;
      if (!controller.signal.aborted && error instanceof EngineError && error.retryable && !(await ctx.engines.probe(probeUrl))) {
        log.warn("generation:engine-down", { generationId: id, model: model.slug, message: error.message });
        await requeueAttempt(id);
        if (await ctx.engines.waitUntilUp(probeUrl, engineDownDeadline, controller.signal)) continue;
      }
      return await handleFailure(job, ctx, model, id, error, controller, writer);
    }
  } finally {
    ctx.running.delete(id);
  }
}

/** One engine call, from taking a slot to the finished row. */
async function attempt(
  ctx: GenerationContext,
  model: Model,
  target: EngineTarget,
  generation: { id: string; purpose: GenerationJob["purpose"]; messages: unknown; params: unknown },
  controller: AbortController,
): Promise<Attempt> {
  const id = generation.id;
  let release: () => void;
  try {
    release = await ctx.slotsOf(model).acquire(laneOf(generation.purpose), controller.signal);
  } catch (error) {
    return { kind: "error", error }; // aborted while waiting for a slot
  }
  try {
    const started = await startAttempt(id);
    if (!started) return { kind: "cancelled" };
    const writer = await attemptStream(ctx.redis, id, started.attempt);
    const params = generation.params as GenerationParams;
    const messages = engineMessagesOf(model, generation.messages as ChatMessage[]);
    const startedAt = Date.now();
    let ttftMs: number | null = null;
    let text = "";
    let deltas = 0;
    let usage: GenerationUsage | undefined;
    try {
      for await (const chunk of streamChatCompletion(target, messages, params, { signal: controller.signal, timeouts: ctx.timeouts })) {
        if (chunk.type === "delta") {
          if (ttftMs === null) {
            ttftMs = Date.now() - startedAt;
            ctx.metrics.observeTtft(model.slug, ttftMs / 1000);
          }
          text += chunk.text;
          deltas += 1;
          ctx.metrics.addTokens(model.slug, 1);
          writer.write({ type: "delta", text: chunk.text });
        } else if (chunk.type === "usage") {
          usage = chunk.usage;
        }
      }
    } catch (error) {
      await writer.flush().catch(() => undefined);
      return { kind: "error", error, writer };
    }
    const durationMs = Date.now() - startedAt;
    await writer.flush();
    // The row first, then done: a viewer who sees done may read the finished row at once.
    if (!(await completeAttempt(id, started.attempt, { text, usage, completionTokens: deltas, ttftMs, durationMs }))) return { kind: "cancelled" };
    writer.write({ type: "done", usage, ttftMs: ttftMs ?? undefined, durationMs });
    await writer.flush();
    return { kind: "completed" };
  } finally {
    release();
  }
}

async function handleFailure(
  job: Job<GenerationJob>,
  ctx: GenerationContext,
  model: Model,
  id: string,
  error: unknown,
  controller: AbortController,
  writer: StreamWriter | undefined,
): Promise<string> {
  const reason = controller.signal.reason as AbortReason | undefined;
  if (controller.signal.aborted && reason === "cancel") {
    await cancelGenerationRow(ctx.redis, id, writer);
    return "cancelled";
  }
  if (controller.signal.aborted && reason === "lost") {
    // Another worker owns the job now (or will, once BullMQ sees it stalled) and writes its
    // stream: touch nothing. The reconciler re-enqueues it if the job itself was lost.
    throw new Error("the job's lock was lost");
  }
  if (controller.signal.aborted && reason === "shutdown") {
    // Back to the queue for another worker; the next attempt resets the stream.
    await requeueAttempt(id);
    throw new Error("the worker shut down mid-generation");
  }
  const engineError = error instanceof EngineError ? error : new EngineError("server", error instanceof Error ? error.message : String(error));
  ctx.metrics.engineError(model.slug, engineError.kind);
  ctx.onEngineError(model.id, engineError.message);
  log.warn("generation:engine-error", { generationId: id, model: model.slug, kind: engineError.kind, message: engineError.message, attempt: job.attemptsMade + 1 });
  if (!engineError.retryable || isLastAttempt(job)) {
    await failGeneration(ctx.redis, id, engineError.message, writer);
    throw engineError.retryable ? engineError : new UnrecoverableError(engineError.message);
  }
  await requeueAttempt(id);
  throw engineError;
}

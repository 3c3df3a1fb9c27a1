import type { Model } from "@prisma/client";
import { UnrecoverableError, type Job } from "bullmq";
import type { Redis } from "ioredis";
import { db } from "../lib/db";
import { log } from "../lib/log";
import { markCancelled } from "../lib/pipeline/cancel";
import { generationCancelKey, type ChatMessage, type GenerationJob, type GenerationParams, type GenerationUsage } from "../lib/pipeline/contracts";
import { EngineError, streamChatCompletion, type EngineTimeouts } from "../lib/pipeline/engine-client";
import { EngineConfigError, engineMessagesOf, engineTargetOf } from "../lib/pipeline/engine-target";
import type { PipelineMetrics } from "../lib/pipeline/metrics";
import { settlePregenRun } from "../lib/pipeline/pregen";
import { publicGenerationError, StreamWriter } from "../lib/pipeline/stream-log";

// One generation job: call the model's engine with streaming, publish every chunk, and write
// the result to the row in one update at the end.

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
};

const ACTIVE = { in: ["queued", "running"] } as { in: ("queued" | "running")[] };

/** Marks a generation failed (if it still runs) and ends its stream with a viewer-safe message. */
export async function markFailed(conn: Redis, generationId: string, detail: string, writer?: StreamWriter): Promise<boolean> {
  const { count } = await db.generation.updateMany({
    where: { id: generationId, status: ACTIVE },
    data: { status: "failed", error: detail.slice(0, 2000), finishedAt: new Date() },
  });
  if (count === 0) return false;
  const stream = writer ?? (await StreamWriter.open(conn, generationId));
  stream.write({ type: "error", error: publicGenerationError(detail) });
  await stream.flush();
  return true;
}

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

async function run(
  job: Job<GenerationJob>,
  ctx: GenerationContext,
  generation: { id: string; messages: unknown; params: unknown },
  model: Model,
): Promise<string> {
  const id = generation.id;
  if (await ctx.redis.exists(generationCancelKey(id))) {
    await markCancelled(ctx.redis, id);
    return "cancelled";
  }
  const controller = new AbortController();
  ctx.running.set(id, controller);
  try {
    const writer = await StreamWriter.open(ctx.redis, id);
    // An earlier attempt streamed part of an answer: viewers drop it and start over.
    if (writer.lastSeq > 0) writer.write({ type: "reset" });
    const { count } = await db.generation.updateMany({ where: { id, status: ACTIVE }, data: { status: "running", startedAt: new Date() } });
    if (count === 0) return "cancelled";

    let target;
    try {
      target = engineTargetOf(model);
    } catch (error) {
      const detail = error instanceof EngineConfigError ? error.message : String(error);
      await markFailed(ctx.redis, id, detail, writer);
      throw new UnrecoverableError(detail);
    }
    const params = generation.params as GenerationParams;
    const messages = engineMessagesOf(model, generation.messages as ChatMessage[]);
    const started = Date.now();
    let ttftMs: number | null = null;
    let text = "";
    let deltas = 0;
    let usage: GenerationUsage | undefined;
    try {
      for await (const chunk of streamChatCompletion(target, messages, params, { signal: controller.signal, timeouts: ctx.timeouts })) {
        if (chunk.type === "delta") {
          if (ttftMs === null) {
            ttftMs = Date.now() - started;
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
      return await handleFailure(job, ctx, model, id, error, controller, writer);
    }
    const durationMs = Date.now() - started;
    await writer.flush();
    // The row first, then done: a viewer who sees done may read the finished row at once.
    const finished = await db.generation.updateMany({
      where: { id, status: "running" },
      data: {
        status: "completed",
        text,
        promptTokens: usage?.promptTokens ?? null,
        completionTokens: usage?.completionTokens ?? deltas,
        ttftMs,
        durationMs,
        finishedAt: new Date(),
        error: null,
      },
    });
    if (finished.count === 0) return "cancelled";
    writer.write({ type: "done", usage, ttftMs: ttftMs ?? undefined, durationMs });
    await writer.flush();
    return "completed";
  } finally {
    ctx.running.delete(id);
  }
}

async function handleFailure(
  job: Job<GenerationJob>,
  ctx: GenerationContext,
  model: Model,
  id: string,
  error: unknown,
  controller: AbortController,
  writer: StreamWriter,
): Promise<string> {
  const reason = controller.signal.reason as AbortReason | undefined;
  if (controller.signal.aborted && reason === "cancel") {
    await markCancelled(ctx.redis, id, writer);
    return "cancelled";
  }
  if (controller.signal.aborted && reason === "lost") {
    // Another worker owns the job now and writes its stream: touch nothing.
    throw new Error("the job's lock was lost to another worker");
  }
  if (controller.signal.aborted && reason === "shutdown") {
    // Back to the queue for another worker; the next attempt resets the stream.
    await db.generation.updateMany({ where: { id, status: "running" }, data: { status: "queued" } });
    throw new Error("the worker shut down mid-generation");
  }
  const engineError = error instanceof EngineError ? error : new EngineError("server", error instanceof Error ? error.message : String(error));
  ctx.metrics.engineError(model.slug, engineError.kind);
  ctx.onEngineError(model.id, engineError.message);
  log.warn("generation:engine-error", { generationId: id, model: model.slug, kind: engineError.kind, message: engineError.message, attempt: job.attemptsMade + 1 });
  if (!engineError.retryable || isLastAttempt(job)) {
    await markFailed(ctx.redis, id, engineError.message, writer);
    throw engineError.retryable ? engineError : new UnrecoverableError(engineError.message);
  }
  await db.generation.updateMany({ where: { id, status: "running" }, data: { status: "queued" } });
  throw engineError;
}

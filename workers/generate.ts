import type { Model } from "@prisma/client";
import { UnrecoverableError, type Job } from "bullmq";
import type { Redis } from "ioredis";
import { db } from "../lib/db";
import { serviceUnavailable } from "../lib/errors";
import { log } from "../lib/log";
import { ENGINE_PRIORITY, generationCancelKey, type ChatMessage, type GenerationParams, type GenerationUsage } from "../lib/pipeline/contracts";
import { EngineError, streamChatCompletion, type EngineTarget, type EngineTimeouts } from "../lib/pipeline/engine-client";
import { EngineConfigError, engineMessagesOf, engineTargetOf } from "../lib/pipeline/engine-target";
import { attemptStream, cancelGenerationRow, completeAttempt, failGeneration, requeueAttempt, startAttempt } from "../lib/pipeline/generation-state";
import type { PipelineMetrics } from "../lib/pipeline/metrics";
import { judgeGenerationEnded } from "../lib/judge/runs";
import { settlePregenRun } from "../lib/pipeline/pregen";
import { laneOf, type GenerationJob } from "../lib/pipeline/queues";
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
  /** How long one attempt of a job waits, in all, for an engine (or PostgreSQL / Redis) that is down before it is spent. */
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
    // A judge generation: store its verdict and settle its run (the reconciler catches a miss).
    if (generation.purpose === "judge") await judgeGenerationEnded(id).catch((e) => log.warn("judge:settle", e));
  }
}

/** writer: the attempt's stream, when it got as far as opening one. */
/** writer: the attempt's stream, when it got as far as opening one; attempt: the row's attempt it ran as. */
type Attempt =
  | { kind: "completed" }
  | { kind: "cancelled" }
  | { kind: "error"; error: unknown; writer?: StreamWriter; attempt?: number; sawTokens: boolean };

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });

/** PostgreSQL and Redis answer again (a restart of either is waited out like an engine's). */
async function servicesBack(ctx: GenerationContext): Promise<boolean> {
  try {
    await db.$queryRaw`SELECT 1`;
    return (await ctx.redis.ping()) === "PONG";
  } catch {
    return false;
  }
}

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
  const controller = new AbortController();
  ctx.running.set(id, controller);
  // Waiting for an engine (or the database) to come back spends this budget, not attempts.
  let waitBudgetMs = ctx.engineDownWaitMs;
  const waitFor = async (back: (deadline: number) => Promise<boolean>): Promise<boolean> => {
    const started = Date.now();
    const ok = await back(started + waitBudgetMs);
    waitBudgetMs -= Date.now() - started;
    return ok && !controller.signal.aborted;
  };
  // A stream that broke mid-answer while the engine died may be this very request's doing (a
  // prompt that crashes the runtime): it is waited out once, then it spends attempts.
  let midStreamRestarts = 0;
  try {
    for (;;) {
      const outcome = await attempt(ctx, model, target, generation, controller);
      if (outcome.kind === "completed") return "completed";
      if (outcome.kind === "cancelled") return "cancelled";
      const { error, writer } = outcome;
      if (!controller.signal.aborted && serviceUnavailable(error)) {
        log.warn("generation:services-down", { generationId: id, model: model.slug, message: error instanceof Error ? error.message : String(error) });
        const back = await waitFor(async (deadline) => {
          while (Date.now() < deadline && !controller.signal.aborted) {
            if (await servicesBack(ctx)) return true;
            await sleep(1000, controller.signal);
          }
          return false;
        });
        if (back) {
          await requeueAttempt(id, outcome.attempt).catch(() => undefined);
          continue;
        }
      }
      const engineDown = !controller.signal.aborted && error instanceof EngineError && error.retryable
        && (!outcome.sawTokens || midStreamRestarts++ < 1) && !(await ctx.engines.probe(probeUrl));
      if (engineDown) {
        log.warn("generation:engine-down", { generationId: id, model: model.slug, message: (error as Error).message });
        await requeueAttempt(id, outcome.attempt);
        if (await waitFor((deadline) => ctx.engines.waitUntilUp(probeUrl, deadline, controller.signal))) continue;
      }
      return await handleFailure(job, ctx, model, id, error, controller, writer, outcome.attempt);
    }
  } finally {
    if (ctx.running.get(id) === controller) ctx.running.delete(id);
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
    return { kind: "error", error, sawTokens: false }; // aborted while waiting for a slot
  }
  let started: { attempt: number } | null = null;
  let sawTokens = false;
  let writer: StreamWriter | null = null;
  try {
    started = await startAttempt(ctx.redis, id);
    if (!started) return { kind: "cancelled" };
    writer = await attemptStream(ctx.redis, id, started.attempt);
    if (!writer) return { kind: "cancelled" }; // a newer attempt runs elsewhere
    const params = generation.params as GenerationParams;
    const messages = engineMessagesOf(model, generation.messages as ChatMessage[]);
    const startedAt = Date.now();
    let ttftMs: number | null = null;
    let text = "";
    let deltas = 0;
    let usage: GenerationUsage | undefined;
    for await (const chunk of streamChatCompletion(target, messages, params, { signal: controller.signal, timeouts: ctx.timeouts })) {
      if (chunk.type === "delta") {
        if (ttftMs === null) {
          ttftMs = Date.now() - startedAt;
          ctx.metrics.observeTtft(model.slug, ttftMs / 1000);
        }
        text += chunk.text;
        deltas += 1;
        sawTokens = true;
        ctx.metrics.addTokens(model.slug, 1);
        writer.write({ type: "delta", text: chunk.text });
      } else if (chunk.type === "usage") {
        usage = chunk.usage;
      }
    }
    const durationMs = Date.now() - startedAt;
    await writer.flush();
    // The row first, then done: a viewer who sees done may read the finished row at once.
    if (!(await completeAttempt(id, started.attempt, { text, usage, completionTokens: deltas, ttftMs, durationMs }))) return { kind: "cancelled" };
    ctx.metrics.observeDuration(model.slug, durationMs / 1000);
    writer.write({ type: "done", usage, ttftMs: ttftMs ?? undefined, durationMs });
    await writer.flush();
    return { kind: "completed" };
  } catch (error) {
    await writer?.flush().catch(() => undefined);
    return { kind: "error", error, writer: writer ?? undefined, attempt: started?.attempt, sawTokens };
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
  attempt: number | undefined,
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
    await requeueAttempt(id, attempt);
    throw new Error("the worker shut down mid-generation");
  }
  const engineError = error instanceof EngineError ? error : new EngineError("server", error instanceof Error ? error.message : String(error));
  ctx.metrics.engineError(model.slug, engineError.kind);
  ctx.onEngineError(model.id, engineError.message);
  log.warn("generation:engine-error", { generationId: id, model: model.slug, kind: engineError.kind, message: engineError.message, attempt: job.attemptsMade + 1 });
  if (!engineError.retryable || isLastAttempt(job)) {
    await failGeneration(ctx.redis, id, engineError.message, { writer, attempt });
    throw engineError.retryable ? engineError : new UnrecoverableError(engineError.message);
  }
  await requeueAttempt(id, attempt);
  throw engineError;
}

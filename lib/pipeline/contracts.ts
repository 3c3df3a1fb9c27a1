// Generation parameters, stream messages, channels and Redis keys shared by the site and the
// workers, declared once here; the queues, their names and job payloads are in queues.ts.

export type ChatRole = "system" | "user" | "assistant";
export type ChatMessage = { role: ChatRole; content: string };

/** Sampling parameters in the arena's own spelling (mapped to the OpenAI API by the engine client). */
export type GenerationParams = {
  temperature: number;
  topP: number;
  topK: number;
  repetitionPenalty: number;
  maxTokens: number;
  seed?: number;
};

/** Chinese-Alpaca-2's published defaults. */
export const DEFAULT_GENERATION_PARAMS: GenerationParams = {
  temperature: 0.2,
  topP: 0.9,
  topK: 40,
  repetitionPenalty: 1.1,
  maxTokens: 512,
};

export type GenerationPurpose = "live" | "pregen" | "test" | "judge";

/**
 * Sent to the gpu-runtime as the request's `priority` (lower is more urgent, as in vLLM): its
 * scheduler admits live requests first and may preempt pre-generation for them.
 */
export const ENGINE_PRIORITY: Record<GenerationPurpose, number> = { live: 0, test: 0, pregen: 10, judge: 10 };

export type GenerationUsage = { promptTokens: number; completionTokens: number };

/**
 * Published on generationChannel(id) and appended to generationLogKey(id). seq starts at 1.
 * "reset" means the answer starts over (a retry after a failed or dead attempt): drop the
 * text received so far. done and error are the last message of a stream. No message names
 * the model, so a battle's streams stay blind.
 */
export type StreamMessage =
  | { seq: number; type: "delta"; text: string }
  | { seq: number; type: "reset" }
  | { seq: number; type: "done"; usage?: GenerationUsage; ttftMs?: number; durationMs?: number }
  | { seq: number; type: "error"; error: string };

export function isFinalMessage(message: StreamMessage): boolean {
  return message.type === "done" || message.type === "error";
}

/**
 * Engine calls one generation may start in all, across BullMQ attempts, stalls, engine restarts
 * and reconciliations; past it the generation fails, so an answer that crashes whatever runs it
 * cannot loop forever.
 */
export const MAX_GENERATION_ATTEMPTS = 10;

/**
 * Attempt n of a generation numbers its stream messages after (n − 1) × this. A viewer who saw
 * an earlier attempt's messages gets the new attempt's `reset` as a jump ahead, even when the
 * replay log was lost with Redis.
 */
export const ATTEMPT_SEQ_STRIDE = 1_000_000;

export function attemptSeqBase(attempt: number): number {
  return Math.max(0, attempt - 1) * ATTEMPT_SEQ_STRIDE;
}

export type PregenScope = "all" | "category" | "missing" | "ids";

/** PregenRun.spec. */
export type PregenSpec = {
  scope: PregenScope;
  categoryId?: string;
  questionIds?: string[];
  params: GenerationParams;
  paramsHash: string;
};

/** The site publishes a generation id here to abort it wherever it runs. */
export const CANCEL_CHANNEL = "pipeline:cancel";

/** Set before publishing a cancel, so a worker that picks the job up later still sees it. */
export function generationCancelKey(generationId: string): string {
  return `gen:${generationId}:cancel`;
}

export function generationChannel(generationId: string): string {
  return `gen:${generationId}`;
}

export function generationLogKey(generationId: string): string {
  return `gen:${generationId}:log`;
}

export const REPLAY_LOG = { maxEntries: 20_000, ttlSeconds: 60 * 60 } as const;

/** Heartbeat per model per worker: a hash at this key, expiring if the worker dies. */
export function heartbeatKey(modelId: string, workerId: string): string {
  return `heartbeat:${modelId}:${workerId}`;
}

export const HEARTBEAT = { intervalMs: 5_000, ttlSeconds: 20 } as const;

export const HEARTBEAT_PATTERN = "heartbeat:*";

export type ModelHeartbeat = {
  workerId: string;
  modelId: string;
  lastSeen: number;
  queueDepth: number;
  running: number;
  tokensPerSecond: number;
  lastError: string | null;
  /** false while the model's engine does not answer: live battles do not draw the model. */
  engineUp: boolean;
};

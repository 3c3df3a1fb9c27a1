import type { ChatMessage, GenerationParams, GenerationUsage } from "./contracts";

// One streaming client for every engine: the built-in gpu-runtime and any OpenAI-compatible
// server. POST {baseUrl}/chat/completions with stream: true, read SSE `data:` lines to [DONE].

export type EngineTarget = {
  baseUrl: string;
  model: string;
  apiKey?: string | null;
  /** Send top_k and repetition_penalty (our runtime and vLLM accept them; hosted APIs may not). */
  extendedSampling: boolean;
  /** The gpu-runtime's `chat_template` extension (a template name or Jinja source); null: its default. */
  chatTemplate?: string | null;
  /** The gpu-runtime's scheduling priority (lower first); sent only when set. */
  priority?: number;
};

export type EngineTimeouts = { connectMs: number; firstTokenMs: number; idleMs: number };

export type EngineChunk =
  | { type: "delta"; text: string }
  | { type: "usage"; usage: GenerationUsage }
  | { type: "finish"; reason: string };

export type EngineErrorKind = "unreachable" | "timeout" | "rejected" | "overloaded" | "server" | "malformed" | "aborted";

/** Retrying helps when the engine is down, slow or busy; not when it rejects the request or speaks garbage. */
const RETRYABLE: Record<EngineErrorKind, boolean> = {
  unreachable: true, timeout: true, overloaded: true, server: true, rejected: false, malformed: false, aborted: false,
};

export class EngineError extends Error {
  constructor(readonly kind: EngineErrorKind, message: string, readonly status?: number) {
    super(message);
    this.name = "EngineError";
  }
  get retryable(): boolean {
    return RETRYABLE[this.kind];
  }
}

/**
 * `withMaxTokens: false` leaves max_tokens out: the engine then answers with what the context
 * leaves, which is less than maxTokens whenever prompt + maxTokens was over the context.
 */
export function chatRequestBody(target: EngineTarget, messages: ChatMessage[], params: GenerationParams, { withMaxTokens = true } = {}): Record<string, unknown> {
  const body: Record<string, unknown> = {
    model: target.model,
    messages,
    stream: true,
    stream_options: { include_usage: true },
    temperature: params.temperature,
    top_p: params.topP,
    ...(withMaxTokens ? { max_tokens: params.maxTokens } : {}),
  };
  if (params.seed !== undefined) body.seed = params.seed;
  if (target.extendedSampling) {
    body.top_k = params.topK;
    body.repetition_penalty = params.repetitionPenalty;
  }
  if (target.chatTemplate) body.chat_template = target.chatTemplate;
  if (target.priority !== undefined) body.priority = target.priority;
  return body;
}

function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}

/** An error answer's message, and its OpenAI error code when it has one. */
async function errorBody(res: Response): Promise<{ message: string; code: string | null }> {
  const text = await res.text().catch(() => "");
  try {
    const parsed = JSON.parse(text) as { error?: { message?: string; code?: unknown } | string; detail?: unknown };
    const message = typeof parsed.error === "string" ? parsed.error : parsed.error?.message;
    const code = typeof parsed.error === "object" && typeof parsed.error?.code === "string" ? parsed.error.code : null;
    if (message) return { message, code };
  } catch {
    // not JSON: fall through to the raw text
  }
  return { message: text.slice(0, 300) || res.statusText, code: null };
}

function statusError(status: number, detail: string): EngineError {
  const text = `engine answered HTTP ${status}: ${detail}`;
  if (status === 429) return new EngineError("overloaded", text, status);
  if (status === 408) return new EngineError("timeout", text, status);
  if (status >= 400 && status < 500) return new EngineError("rejected", text, status);
  return new EngineError("server", text, status);
}

type ChunkShape = {
  choices?: { delta?: { content?: unknown }; finish_reason?: unknown }[];
  usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } | null;
  error?: { message?: string } | string;
};

function* parseChunk(payload: string): Generator<EngineChunk> {
  let chunk: ChunkShape;
  try {
    chunk = JSON.parse(payload) as ChunkShape;
  } catch {
    throw new EngineError("malformed", `engine sent a malformed chunk (not JSON): ${payload.slice(0, 120)}`);
  }
  if (chunk === null || typeof chunk !== "object") {
    throw new EngineError("malformed", `engine sent a malformed chunk: ${payload.slice(0, 120)}`);
  }
  if (chunk.error) {
    const message = typeof chunk.error === "string" ? chunk.error : (chunk.error.message ?? "unknown error");
    throw new EngineError("server", `engine reported an error mid-stream: ${message}`);
  }
  if (!Array.isArray(chunk.choices)) {
    throw new EngineError("malformed", `engine sent a chunk without choices: ${payload.slice(0, 120)}`);
  }
  const choice = chunk.choices[0];
  const content = choice?.delta?.content;
  if (content !== undefined && content !== null && typeof content !== "string") {
    throw new EngineError("malformed", `engine sent a chunk whose delta.content is not text: ${payload.slice(0, 120)}`);
  }
  if (content) yield { type: "delta", text: content };
  if (typeof choice?.finish_reason === "string") yield { type: "finish", reason: choice.finish_reason };
  const usage = chunk.usage;
  if (usage && typeof usage.prompt_tokens === "number" && typeof usage.completion_tokens === "number") {
    yield { type: "usage", usage: { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens } };
  }
}

/**
 * Streams one chat completion. Throws EngineError on every failure; `signal` aborts the HTTP
 * request (the engine then frees the sequence).
 */
export async function* streamChatCompletion(
  target: EngineTarget,
  messages: ChatMessage[],
  params: GenerationParams,
  { signal, timeouts }: { signal?: AbortSignal; timeouts: EngineTimeouts },
): AsyncGenerator<EngineChunk> {
  const controller = new AbortController();
  let timedOut: string | null = null;
  let timer: NodeJS.Timeout | undefined;
  const arm = (ms: number, what: string) => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timedOut = `engine timed out: ${what} (${ms} ms)`;
      controller.abort();
    }, ms);
  };
  const onAbort = () => controller.abort();
  signal?.addEventListener("abort", onAbort, { once: true });
  if (signal?.aborted) controller.abort();
  const failure = (error: unknown, fallback: (detail: string) => EngineError): EngineError => {
    if (error instanceof EngineError) return error;
    if (timedOut) return new EngineError("timeout", timedOut);
    if (signal?.aborted) return new EngineError("aborted", "the generation was aborted");
    return fallback(describeFetchError(error));
  };

  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  let finished = false;
  try {
    arm(timeouts.connectMs, "no response");
    const url = `${target.baseUrl.replace(/\/+$/, "")}/chat/completions`;
    const headers: Record<string, string> = { "content-type": "application/json", accept: "text/event-stream" };
    if (target.apiKey) headers.authorization = `Bearer ${target.apiKey}`;
    const post = async (withMaxTokens: boolean): Promise<Response> => {
      try {
        const body = JSON.stringify(chatRequestBody(target, messages, params, { withMaxTokens }));
        return await fetch(url, { method: "POST", headers, body, signal: controller.signal });
      } catch (error) {
        throw failure(error, (detail) => new EngineError("unreachable", `engine unreachable at ${url}: ${detail}`));
      }
    };
    let res = await post(true);
    if (!res.ok) {
      const error = await errorBody(res);
      // OpenAI-style engines refuse prompt + max_tokens over the context. A late turn of a long
      // conversation is then asked again without max_tokens: it gets what the context leaves,
      // less than maxTokens (the engine still refuses a prompt that fills the context).
      if (res.status !== 400 || error.code !== "context_length_exceeded") throw statusError(res.status, error.message);
      res = await post(false);
      if (!res.ok) throw statusError(res.status, (await errorBody(res)).message);
    }
    if (!res.body) throw new EngineError("malformed", "engine answered without a body");

    arm(timeouts.firstTokenMs, "no first token");
    let sawToken = false;
    let sawFinish = false;
    reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      let read: ReadableStreamReadResult<Uint8Array>;
      try {
        read = await reader.read();
      } catch (error) {
        throw failure(error, (detail) => new EngineError("server", `engine connection broke mid-stream: ${detail}`));
      }
      if (read.done) break;
      buffer += decoder.decode(read.value, { stream: true });
      let newline: number;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline).replace(/\r$/, "");
        buffer = buffer.slice(newline + 1);
        if (!line.startsWith("data:")) continue; // blank separators, comments, event names
        const payload = line.slice(5).trim();
        if (payload === "[DONE]") {
          finished = true;
          return;
        }
        for (const chunk of parseChunk(payload)) {
          if (chunk.type === "delta") sawToken = true;
          if (chunk.type === "finish") sawFinish = true;
          yield chunk;
        }
        if (sawToken) arm(timeouts.idleMs, "no chunk for too long");
      }
    }
    if (!sawFinish) throw new EngineError("server", "engine closed the stream before it finished the answer");
    finished = true;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
    if (!finished) {
      // Closing the connection is what tells the engine to stop spending on this sequence.
      controller.abort();
      await reader?.cancel().catch(() => undefined);
    }
  }
}

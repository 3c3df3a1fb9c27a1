import type { StreamMessage } from "./contracts";

// Server-Sent Events for route handlers: `id:` lines make Last-Event-ID reconnects resume,
// comment pings keep proxies from closing an idle stream.

export type SseEvent = { id?: string; event?: string; data: unknown };

/**
 * A stream that has not advanced for `stallMs` (lib/env's LEITAI_STREAM_STALL_MS). The source
 * throws it; the response ends with STALLED_EVENT, never with an endless wait.
 */
export class StreamStalledError extends Error {
  constructor(readonly stallMs: number) {
    super(`the stream has not advanced for ${stallMs} ms`);
    this.name = "StreamStalledError";
  }
}

/**
 * The last event of a stalled stream. No id line: a reconnect resumes after the last real
 * message. `reason` lets the page tell a stall from a failed answer; the text names no model.
 */
export const STALLED_EVENT: SseEvent = {
  event: "error",
  data: { type: "error", reason: "stalled", error: "The answer stopped arriving." },
};

const FAILED_EVENT: SseEvent = { event: "error", data: { type: "error", error: "The stream failed." } };

function lastEventOf(error: unknown): SseEvent {
  return error instanceof StreamStalledError ? STALLED_EVENT : FAILED_EVENT;
}

export const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache, no-transform",
  connection: "keep-alive",
  "x-accel-buffering": "no",
} as const;

export function encodeSse(event: SseEvent): string {
  let out = "";
  if (event.id !== undefined) out += `id: ${event.id}\n`;
  if (event.event) out += `event: ${event.event}\n`;
  return `${out}data: ${JSON.stringify(event.data)}\n\n`;
}

// Many viewers of one stream receive the same message object: serialise it once for all of
// them (the id line stays per event). Messages are never changed after they are yielded.
const serialised = new WeakMap<object, string>();
const encoder = new TextEncoder();

function encodeShared(event: SseEvent): Uint8Array {
  const data = event.data;
  if (typeof data !== "object" || data === null) return encoder.encode(encodeSse(event));
  let json = serialised.get(data);
  if (json === undefined) {
    json = JSON.stringify(data);
    serialised.set(data, json);
  }
  let out = "";
  if (event.id !== undefined) out += `id: ${event.id}\n`;
  if (event.event) out += `event: ${event.event}\n`;
  return encoder.encode(`${out}data: ${json}\n\n`);
}

/** One generation's messages as SSE events: id = seq, the message itself as data. */
export async function* generationSse(messages: AsyncIterable<StreamMessage>): AsyncGenerator<SseEvent> {
  for await (const message of messages) yield { id: String(message.seq), data: message };
}

type Source = AsyncIterable<SseEvent> | ((signal: AbortSignal) => AsyncIterable<SseEvent>);

/**
 * Streams `source` as text/event-stream. Pass a function to get a signal that aborts when the
 * client goes away (or `signal` aborts), so the source stops waiting at once.
 */
export function sseResponse(
  source: Source,
  { signal, keepAliveMs = 15_000, retryMs = 1_000, onError }: {
    signal?: AbortSignal;
    keepAliveMs?: number;
    retryMs?: number;
    /** Turns a failure of the source into a last event (default: STALLED_EVENT for a stall, else a generic error event). */
    onError?: (error: unknown) => SseEvent | null;
  } = {},
): Response {
  const stop = new AbortController();
  const abort = () => stop.abort();
  signal?.addEventListener("abort", abort, { once: true });
  let ping: NodeJS.Timeout | undefined;

  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      const send = (chunk: string | Uint8Array) => {
        if (!stop.signal.aborted) controller.enqueue(typeof chunk === "string" ? encoder.encode(chunk) : chunk);
      };
      send(`retry: ${retryMs}\n\n`);
      ping = setInterval(() => send(": ping\n\n"), keepAliveMs);
      const iterable = typeof source === "function" ? source(stop.signal) : source;
      try {
        for await (const event of iterable) {
          if (stop.signal.aborted) break;
          send(encodeShared(event));
        }
      } catch (error) {
        const last = onError ? onError(error) : lastEventOf(error);
        if (last) send(encodeSse(last));
      } finally {
        clearInterval(ping);
        signal?.removeEventListener("abort", abort);
        if (!stop.signal.aborted) controller.close();
      }
    },
    cancel() {
      clearInterval(ping);
      stop.abort();
    },
  });
  return new Response(body, { headers: SSE_HEADERS });
}

/** Where a viewer resumes: the Last-Event-ID header (browser reconnects) or ?after=. */
export function afterSeqOf(request: Request): number {
  const header = request.headers.get("last-event-id");
  const query = new URL(request.url).searchParams.get("after");
  const value = Number.parseInt(header ?? query ?? "0", 10);
  return Number.isFinite(value) && value > 0 ? value : 0;
}

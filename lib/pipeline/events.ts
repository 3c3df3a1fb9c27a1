import type { Generation } from "@prisma/client";
import { db } from "../db";
import { errors } from "../errors";
import { redis } from "../redis";
import { AsyncQueue } from "./async-queue";
import { generationChannel, isFinalMessage, type StreamMessage } from "./contracts";
import { channelHub } from "./hub";
import { CANCELLED, lastLogged, parseStreamMessage, publicGenerationError, readLog } from "./stream-log";

// A viewer's view of one generation: every message after `afterSeq`, exactly once, in order,
// ending after done or error.

const FINISHED = new Set(["completed", "failed", "cancelled"]);
/** How long a silent stream waits before it checks the log and the row again. */
const RECHECK_MS = 5_000;

type Finished = Pick<Generation, "status" | "text" | "promptTokens" | "completionTokens" | "ttftMs" | "durationMs" | "error">;
const finishedFields = { status: true, text: true, promptTokens: true, completionTokens: true, ttftMs: true, durationMs: true, error: true } as const;

function finalOf(row: Finished, seq: number): StreamMessage {
  if (row.status === "completed") {
    const usage = row.promptTokens !== null && row.completionTokens !== null
      ? { promptTokens: row.promptTokens, completionTokens: row.completionTokens } : undefined;
    return { seq, type: "done", usage, ttftMs: row.ttftMs ?? undefined, durationMs: row.durationMs ?? undefined };
  }
  return { seq, type: "error", error: publicGenerationError(row.status === "cancelled" ? CANCELLED : row.error) };
}

/**
 * A finished generation from PostgreSQL: one delta with the whole text, then done. Its seqs line
 * up with the replay log while that exists, so a reconnect after either message stays exact.
 */
async function* fromDatabase(generationId: string, row: Finished, afterSeq: number): AsyncGenerator<StreamMessage> {
  const last = await lastLogged(redis(), generationId);
  if (last && isFinalMessage(last)) {
    if (afterSeq >= last.seq) return;
    if (afterSeq > 0) {
      yield* await readLog(redis(), generationId, afterSeq);
      return;
    }
    if (row.text) yield { seq: last.seq - 1, type: "delta", text: row.text };
    yield { ...finalOf(row, last.seq) };
    return;
  }
  // No log (expired, or never streamed): a viewer who saw part of it starts over.
  let seq = afterSeq;
  if (afterSeq > 0) yield { seq: ++seq, type: "reset" };
  if (row.text) yield { seq: ++seq, type: "delta", text: row.text };
  yield finalOf(row, ++seq);
}

// The hub hands the same string to every viewer of a channel in turn: parse it once for all.
// (Viewers only read messages, so sharing the object is safe.)
let lastRaw: string | null = null;
let lastParsed: StreamMessage | null = null;
function parseShared(raw: string): StreamMessage | null {
  if (raw !== lastRaw) {
    lastRaw = raw;
    lastParsed = parseStreamMessage(raw);
  }
  return lastParsed;
}

export async function* generationEvents(
  generationId: string,
  { afterSeq = 0, signal }: { afterSeq?: number; signal?: AbortSignal } = {},
): AsyncGenerator<StreamMessage> {
  const row = await db.generation.findUnique({ where: { id: generationId }, select: finishedFields });
  if (!row) throw errors.notFound("generation");
  if (FINISHED.has(row.status)) {
    yield* fromDatabase(generationId, row, afterSeq);
    return;
  }

  // Subscribe first, then replay: a message published in between arrives on both paths and
  // the seq check drops the second copy. null is a recheck tick.
  const live = new AsyncQueue<StreamMessage | null>();
  const stop = await channelHub().listen(generationChannel(generationId), (raw) => {
    const message = parseShared(raw);
    if (message) live.push(message);
  });
  const onAbort = () => live.close();
  signal?.addEventListener("abort", onAbort, { once: true });
  if (signal?.aborted) live.close();
  let quiet = true;
  const tick = setInterval(() => {
    if (quiet) live.push(null);
    quiet = true;
  }, RECHECK_MS);
  try {
    let last = afterSeq;
    const fromLog = async function* (): AsyncGenerator<StreamMessage> {
      for (const message of await readLog(redis(), generationId, last)) {
        if (message.seq !== last + 1) break; // a hole: wait for the live copy or the next recheck
        last = message.seq;
        yield message;
        if (isFinalMessage(message)) return;
      }
    };
    for await (const message of fromLog()) {
      yield message;
      if (isFinalMessage(message)) return;
    }
    for (;;) {
      const message = await live.next();
      if (message === undefined || signal?.aborted) return;
      if (message) quiet = false;
      if (message && message.seq <= last) continue;
      if (!message || message.seq > last + 1) {
        // Silence or a gap (a lost publish, a reconnected subscriber): the log is the truth.
        let ended = false;
        for await (const logged of fromLog()) {
          yield logged;
          ended ||= isFinalMessage(logged);
        }
        if (ended) return;
        if (!message) {
          const now = await db.generation.findUnique({ where: { id: generationId }, select: finishedFields });
          if (!now || FINISHED.has(now.status)) {
            // Finished without a final message in the log (e.g. the log expired): end from the row.
            if (now) yield* fromDatabase(generationId, now, last);
            return;
          }
        }
        if (message && message.seq === last + 1) {
          last = message.seq;
          yield message;
          if (isFinalMessage(message)) return;
        }
        continue;
      }
      last = message.seq;
      yield message;
      if (isFinalMessage(message)) return;
    }
  } finally {
    clearInterval(tick);
    signal?.removeEventListener("abort", onAbort);
    stop();
  }
}

/** Lets a route answer 404 before it starts a stream. */
export async function assertGenerationExists(generationId: string): Promise<void> {
  const row = await db.generation.findUnique({ where: { id: generationId }, select: { id: true } });
  if (!row) throw errors.notFound("generation");
}

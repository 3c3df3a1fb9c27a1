import type { Generation } from "@prisma/client";
import { db } from "../db";
import { env } from "../env";
import { errors } from "../errors";
import { redis } from "../redis";
import { AsyncQueue } from "./async-queue";
import { generationChannel, isFinalMessage, REPLAY_LOG, type StreamMessage } from "./contracts";
import { channelHub } from "./hub";
import { StreamStalledError } from "./sse";
import { CANCELLED, lastLogged, parseStreamMessage, publicGenerationError, readLog } from "./stream-log";

// A viewer's view of one generation: every message after `afterSeq`, exactly once, in order,
// ending after done or error.

const FINISHED = new Set(["completed", "failed", "cancelled"]);
/** How long a silent stream waits before it checks the log and the row again. */
const RECHECK_MS = 5_000;
/** Pushed by the stall timer: the stream has not advanced for stallMs. */
const STALL = Symbol("stall");

/**
 * Set when a viewer's stream stalls, to the last seq it had: the generation counts as stalled
 * (a voter may re-roll it) while its log has not moved past that seq.
 */
export function generationStallKey(generationId: string): string {
  return `gen:${generationId}:stalled`;
}

async function markStalled(generationId: string): Promise<void> {
  const last = await lastLogged(redis(), generationId);
  await redis().set(generationStallKey(generationId), String(last?.seq ?? 0), "EX", REPLAY_LOG.ttlSeconds);
}

/** A queued or running generation whose stream a viewer saw stall, with no message since. */
export async function isGenerationStalled(generationId: string): Promise<boolean> {
  const [marker, last] = await Promise.all([redis().get(generationStallKey(generationId)), lastLogged(redis(), generationId)]);
  return marker !== null && Number(marker) === (last?.seq ?? 0);
}

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

/**
 * `stallMs` (default LEITAI_STREAM_STALL_MS): with no new message for that long, the stream
 * ends by throwing StreamStalledError (sseResponse turns it into a "stalled" error event). The
 * generation may still finish later; the battle view then shows it.
 */
export async function* generationEvents(
  generationId: string,
  { afterSeq = 0, signal, stallMs = env().LEITAI_STREAM_STALL_MS }: { afterSeq?: number; signal?: AbortSignal; stallMs?: number } = {},
): AsyncGenerator<StreamMessage> {
  const row = await db.generation.findUnique({ where: { id: generationId }, select: finishedFields });
  if (!row) throw errors.notFound("generation");
  if (FINISHED.has(row.status)) {
    yield* fromDatabase(generationId, row, afterSeq);
    return;
  }

  // Subscribe first, then replay: a message published in between arrives on both paths and
  // the seq check drops the second copy. null is a recheck tick.
  const live = new AsyncQueue<StreamMessage | null | typeof STALL>();
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
  // One timer per viewer, re-armed only when it fires: a message just moves progressAt.
  let progressAt = Date.now();
  let stallTimer: NodeJS.Timeout | undefined;
  const armStall = (delayMs: number) => {
    stallTimer = setTimeout(() => {
      const idle = Date.now() - progressAt;
      if (idle >= stallMs) live.push(STALL);
      else armStall(stallMs - idle);
    }, delayMs);
  };
  if (stallMs > 0) armStall(stallMs);
  try {
    let last = afterSeq;
    const fromLog = async function* (): AsyncGenerator<StreamMessage> {
      for (const message of await readLog(redis(), generationId, last)) {
        // A hole: wait for the live copy or the next recheck. A reset may follow one (a new
        // attempt numbers after every earlier one): what came before it is dropped anyway.
        if (message.seq !== last + 1 && message.type !== "reset") break;
        last = message.seq;
        progressAt = Date.now();
        yield message;
        if (isFinalMessage(message)) return;
      }
    };
    for await (const message of fromLog()) {
      yield message;
      if (isFinalMessage(message)) return;
    }
    for (;;) {
      const next = await live.next();
      if (next === undefined || signal?.aborted) return;
      // A stall is a recheck first: the answer may have ended without a message reaching us.
      const stalled = next === STALL;
      const message = stalled ? null : next;
      if (message) quiet = false;
      if (message && message.seq <= last) continue;
      if (!message || (message.seq > last + 1 && message.type !== "reset")) {
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
          if (stalled) {
            const idle = Date.now() - progressAt;
            if (idle >= stallMs) {
              await markStalled(generationId);
              throw new StreamStalledError(stallMs);
            }
            armStall(stallMs - idle);
          }
        }
        if (message && message.seq === last + 1) {
          last = message.seq;
          progressAt = Date.now();
          yield message;
          if (isFinalMessage(message)) return;
        }
        continue;
      }
      last = message.seq;
      progressAt = Date.now();
      yield message;
      if (isFinalMessage(message)) return;
    }
  } finally {
    clearInterval(tick);
    clearTimeout(stallTimer);
    signal?.removeEventListener("abort", onAbort);
    stop();
  }
}

/**
 * A battle side's stream as a voter may see it before the vote: text and its end, nothing an
 * engine measured. Token counts of a known prompt follow the model's tokenizer and chat
 * template, and a cached answer's timings are the same in every battle: either would tell the
 * voter which model answered.
 */
export async function* blindMessages(messages: AsyncIterable<StreamMessage>): AsyncGenerator<StreamMessage> {
  for await (const m of messages) {
    yield m.type === "done" ? { seq: m.seq, type: "done" } : m;
  }
}

/** Lets a route answer 404 before it starts a stream. */
export async function assertGenerationExists(generationId: string): Promise<void> {
  const row = await db.generation.findUnique({ where: { id: generationId }, select: { id: true } });
  if (!row) throw errors.notFound("generation");
}

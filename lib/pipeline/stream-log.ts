import type { Redis } from "ioredis";
import { generationChannel, generationLogKey, REPLAY_LOG, type StreamMessage } from "./contracts";

// Every stream message is appended to the generation's replay log and published on its
// channel in one MULTI, so a reader that subscribes first and then reads the log misses nothing.

export const CANCELLED = "cancelled";

/**
 * What viewers are told when a generation fails. The row keeps the detail for admins; the
 * stream gets a category only, because engine URLs and remote model names would unblind a battle.
 */
export function publicGenerationError(detail: string | null): string {
  if (detail === CANCELLED) return CANCELLED;
  if (detail?.startsWith("engine timed out")) return "The model took too long to answer.";
  return "The model could not answer.";
}

type Unsequenced<M> = M extends StreamMessage ? Omit<M, "seq"> : never;
export type NewStreamMessage = Unsequenced<StreamMessage>;

export function parseStreamMessage(raw: string): StreamMessage | null {
  try {
    const value = JSON.parse(raw) as StreamMessage;
    return typeof value?.seq === "number" && typeof value.type === "string" ? value : null;
  } catch {
    return null;
  }
}

export async function readLog(redis: Redis, generationId: string, afterSeq = 0): Promise<StreamMessage[]> {
  const raw = await redis.lrange(generationLogKey(generationId), 0, -1);
  const out: StreamMessage[] = [];
  for (const entry of raw) {
    const message = parseStreamMessage(entry);
    if (message && message.seq > afterSeq) out.push(message);
  }
  return out.sort((a, b) => a.seq - b.seq);
}

export async function lastLogged(redis: Redis, generationId: string): Promise<StreamMessage | null> {
  const raw = await redis.lindex(generationLogKey(generationId), -1);
  return raw ? parseStreamMessage(raw) : null;
}

/** Writes one generation's stream; seq continues after whatever an earlier attempt logged or numbered. */
export class StreamWriter {
  private pending: Promise<unknown> = Promise.resolve();
  private failure: unknown = null;

  private constructor(private readonly redis: Redis, readonly generationId: string, private seq: number) {}

  /** `seqFloor`: the attempt's base (attemptSeqBase), so seq never repeats one a viewer saw. */
  static async open(redis: Redis, generationId: string, seqFloor = 0): Promise<StreamWriter> {
    const last = await lastLogged(redis, generationId);
    return new StreamWriter(redis, generationId, Math.max(last?.seq ?? 0, seqFloor));
  }

  get lastSeq(): number {
    return this.seq;
  }

  /** Queues the message; Redis keeps the order because one connection carries them all. */
  write(message: NewStreamMessage): StreamMessage {
    const full = { ...message, seq: ++this.seq } as StreamMessage;
    const json = JSON.stringify(full);
    const key = generationLogKey(this.generationId);
    const tx = this.redis.multi().rpush(key, json).publish(generationChannel(this.generationId), json);
    if (full.seq === 1 || full.type === "reset" || full.type === "done" || full.type === "error") {
      tx.ltrim(key, -REPLAY_LOG.maxEntries, -1).expire(key, REPLAY_LOG.ttlSeconds);
    }
    this.pending = tx.exec().catch((error) => {
      this.failure ??= error;
    });
    return full;
  }

  /** Resolves once everything written so far reached Redis; throws the first failure. */
  async flush(): Promise<void> {
    await this.pending;
    if (this.failure) throw this.failure;
  }
}

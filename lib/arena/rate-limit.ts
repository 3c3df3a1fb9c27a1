import { errors } from "../errors";
import { redis } from "../redis";

/**
 * Fixed-window counters in Redis, one per key; throws a 429 with the seconds left in the
 * window once `limit` is passed. INCR + EXPIRE NX in one round trip.
 */
export async function enforceRateLimit({ surface, keys, windowS }: {
  surface: string;
  keys: { key: string; limit: number }[];
  windowS: number;
}): Promise<void> {
  const window = Math.floor(Date.now() / 1000 / windowS);
  const pipeline = redis().multi();
  for (const { key } of keys) {
    const k = `ratelimit:${surface}:${key}:${window}`;
    pipeline.incr(k).expire(k, windowS, "NX");
  }
  const results = (await pipeline.exec()) ?? [];
  for (let i = 0; i < keys.length; i++) {
    const count = Number(results[i * 2]?.[1] ?? 0);
    if (count > keys[i]!.limit) {
      const retryAfterS = Math.max(1, (window + 1) * windowS - Math.floor(Date.now() / 1000));
      throw errors.rateLimited(surface, retryAfterS);
    }
  }
}

import { Redis, type RedisOptions } from "ioredis";
import { env } from "./env";
import { log } from "./log";

export function createRedis(options: RedisOptions = {}, url = env().REDIS_URL): Redis {
  return new Redis(url, { lazyConnect: false, ...options });
}

/** How long a command on the shared connection may wait for Redis to answer before it rejects. */
export const COMMAND_TIMEOUT_MS = 3_000;

const holder = globalThis as unknown as { leitaiRedis?: Redis };

/**
 * Shared connection for commands (never a blocking one), to REDIS_URL or to `url` (tests point
 * it at a Redis that hangs). It fails fast so a request never waits on a dead Redis: a command
 * rejects after one failed reconnect, or after COMMAND_TIMEOUT_MS when Redis took the
 * connection and does not answer (paused, swapping, a half-open socket).
 */
export function redis(url?: string): Redis {
  if (holder.leitaiRedis && url !== undefined) throw new Error("redis() is connected already: closeRedis() first");
  holder.leitaiRedis ??= quietWhileAway(createRedis({ maxRetriesPerRequest: 1, connectTimeout: 2000, commandTimeout: COMMAND_TIMEOUT_MS }, url));
  return holder.leitaiRedis;
}

/** Drops the shared connection; the next redis() opens a new one. */
export function closeRedis(): void {
  holder.leitaiRedis?.disconnect();
  holder.leitaiRedis = undefined;
}

/**
 * Logs a connection's errors once per outage (ioredis otherwise prints "Unhandled error event"
 * at every reconnect try): the requests that need Redis meanwhile answer 503 on their own.
 */
export function quietWhileAway(conn: Redis, event = "redis:unreachable"): Redis {
  let away = false;
  conn.on("error", (error: Error) => {
    if (!away) log.warn(event, { message: error.message });
    away = true;
  });
  conn.on("ready", () => {
    if (away) log.info("redis:back", {});
    away = false;
  });
  return conn;
}

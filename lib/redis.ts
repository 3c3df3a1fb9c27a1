import { Redis, type RedisOptions } from "ioredis";
import { env } from "./env";
import { log } from "./log";

export function createRedis(options: RedisOptions = {}, url = env().REDIS_URL): Redis {
  return new Redis(url, { lazyConnect: false, ...options });
}

const holder = globalThis as unknown as { leitaiRedis?: Redis };

/** Shared connection for commands; fails fast so a request never waits on a dead Redis. */
export function redis(): Redis {
  holder.leitaiRedis ??= quietWhileAway(createRedis({ maxRetriesPerRequest: 1, connectTimeout: 2000 }));
  return holder.leitaiRedis;
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

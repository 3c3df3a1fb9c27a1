import { Redis, type RedisOptions } from "ioredis";
import { env } from "./env";

export function createRedis(options: RedisOptions = {}): Redis {
  return new Redis(env().REDIS_URL, { lazyConnect: false, ...options });
}

const holder = globalThis as unknown as { leitaiRedis?: Redis };

/** Shared connection for commands; fails fast so a request never waits on a dead Redis. */
export function redis(): Redis {
  holder.leitaiRedis ??= createRedis({ maxRetriesPerRequest: 1, connectTimeout: 2000 });
  return holder.leitaiRedis;
}

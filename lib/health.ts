import type { PrismaClient } from "@prisma/client";
import type { Redis } from "ioredis";
import { log } from "./log";

export type ServiceHealth = { ok: boolean; message: string; latencyMs: number };
export type Health = { ok: boolean; postgres: ServiceHealth; redis: ServiceHealth };

const TIMEOUT_MS = 2000;

async function probe(name: string, check: () => Promise<unknown>): Promise<ServiceHealth> {
  const started = Date.now();
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out after ${TIMEOUT_MS} ms`)), TIMEOUT_MS)),
    ]);
    return { ok: true, message: `${name} is reachable`, latencyMs: Date.now() - started };
  } catch (error) {
    // The reason goes to the log; the answer says only which service is down.
    log.warn(`health:${name}`, error);
    return { ok: false, message: `${name} is not reachable`, latencyMs: Date.now() - started };
  }
}

export async function checkHealth({ db, redis }: { db: PrismaClient; redis: Redis }): Promise<Health> {
  const [postgres, redisHealth] = await Promise.all([
    probe("PostgreSQL", () => db.$queryRaw`SELECT 1`),
    probe("Redis", () => redis.ping()),
  ]);
  return { ok: postgres.ok && redisHealth.ok, postgres, redis: redisHealth };
}

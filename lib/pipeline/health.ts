import type { Redis } from "ioredis";
import { redis } from "../redis";
import { HEARTBEAT, HEARTBEAT_PATTERN, heartbeatKey, type ModelHeartbeat } from "./contracts";

// Which workers serve which models, read from the heartbeats the workers write. A heartbeat
// expires HEARTBEAT.ttlSeconds after its worker stops writing it.

export type ModelHealth = {
  /** A fresh heartbeat from a worker whose engine answers. */
  healthy: boolean;
  /** Fresh heartbeats exist, but no worker's engine answers. */
  engineDown: boolean;
  workers: number;
  queueDepth: number;
  running: number;
  tokensPerSecond: number;
  lastError: string | null;
};

export async function writeHeartbeat(conn: Redis, beat: ModelHeartbeat): Promise<void> {
  const key = heartbeatKey(beat.modelId, beat.workerId);
  await conn.multi()
    .hset(key, {
      workerId: beat.workerId,
      modelId: beat.modelId,
      lastSeen: String(beat.lastSeen),
      queueDepth: String(beat.queueDepth),
      running: String(beat.running),
      tokensPerSecond: beat.tokensPerSecond.toFixed(2),
      lastError: beat.lastError ?? "",
      engineUp: beat.engineUp ? "1" : "0",
    })
    .expire(key, HEARTBEAT.ttlSeconds)
    .exec();
}

export async function removeHeartbeat(conn: Redis, modelId: string, workerId: string): Promise<void> {
  await conn.del(heartbeatKey(modelId, workerId));
}

function parseHeartbeat(fields: Record<string, string>): ModelHeartbeat | null {
  if (!fields.modelId || !fields.workerId) return null;
  return {
    workerId: fields.workerId,
    modelId: fields.modelId,
    lastSeen: Number(fields.lastSeen) || 0,
    queueDepth: Number(fields.queueDepth) || 0,
    running: Number(fields.running) || 0,
    tokensPerSecond: Number(fields.tokensPerSecond) || 0,
    lastError: fields.lastError || null,
    // A worker of an older version writes no engineUp: it counts as up.
    engineUp: fields.engineUp !== "0",
  };
}

export async function listHeartbeats(conn: Redis = redis()): Promise<ModelHeartbeat[]> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, found] = await conn.scan(cursor, "MATCH", HEARTBEAT_PATTERN, "COUNT", 500);
    cursor = next;
    keys.push(...found);
  } while (cursor !== "0");
  if (!keys.length) return [];
  const tx = conn.pipeline();
  for (const key of keys) tx.hgetall(key);
  const results = (await tx.exec()) ?? [];
  return results.map(([, fields]) => parseHeartbeat((fields ?? {}) as Record<string, string>)).filter((b): b is ModelHeartbeat => b !== null);
}

/**
 * Health per model id: healthy = at least one fresh heartbeat from a worker whose engine answers. Models named in `modelIds`
 * without any heartbeat are included as unhealthy.
 */
export async function getModelHealth(modelIds: string[] = [], now = Date.now()): Promise<Map<string, ModelHealth>> {
  const out = new Map<string, ModelHealth>();
  const none = (): ModelHealth => ({ healthy: false, engineDown: false, workers: 0, queueDepth: 0, running: 0, tokensPerSecond: 0, lastError: null });
  for (const id of modelIds) out.set(id, none());
  for (const beat of await listHeartbeats()) {
    if (now - beat.lastSeen > HEARTBEAT.ttlSeconds * 1000) continue;
    const health = out.get(beat.modelId) ?? none();
    health.healthy ||= beat.engineUp;
    health.engineDown = !health.healthy;
    health.workers += 1;
    // Every worker sees the same queue: its depth is not summed.
    health.queueDepth = Math.max(health.queueDepth, beat.queueDepth);
    health.running += beat.running;
    health.tokensPerSecond += beat.tokensPerSecond;
    health.lastError ??= beat.lastError;
    out.set(beat.modelId, health);
  }
  return out;
}

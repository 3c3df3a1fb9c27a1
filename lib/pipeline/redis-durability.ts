import type { Redis } from "ioredis";
import { log } from "../log";

// BullMQ keeps every queued generation in Redis: a Redis without persistence loses them all on
// a restart, and one that evicts keys loses them under memory pressure. The worker checks the
// Redis it is given at start and warns; it still runs (PostgreSQL stays the record).

export type RedisDurability = {
  /** Append-only file on (appendonly yes). */
  aof: boolean;
  /** RDB snapshots: save points set (CONFIG), or snapshots seen being taken (INFO). */
  rdb: boolean;
  /** everysec, always or no; null when unknown (INFO does not say). */
  appendfsync: string | null;
  /** maxmemory-policy, "unknown" when it could not be read. */
  evictionPolicy: string;
  /** Where the answer came from: CONFIG GET, or INFO where a managed Redis disables CONFIG. */
  source: "config" | "info" | "none";
  warnings: string[];
};

async function configValue(conn: Redis, name: string): Promise<string> {
  const reply = await conn.call("CONFIG", "GET", name);
  if (!Array.isArray(reply) || reply.length < 2) throw new Error(`CONFIG GET ${name} answered nothing`);
  return String(reply[1]);
}

async function infoFields(conn: Redis, section: string): Promise<Map<string, string>> {
  const text = String(await conn.call("INFO", section));
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon > 0 && !line.startsWith("#")) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
}

async function fromConfig(conn: Redis) {
  const [appendonly, appendfsync, save, evictionPolicy] = await Promise.all(
    ["appendonly", "appendfsync", "save", "maxmemory-policy"].map((name) => configValue(conn, name)),
  );
  return { aof: appendonly === "yes", appendfsync: appendfsync ?? null, rdb: (save ?? "").trim() !== "", evictionPolicy: evictionPolicy ?? "unknown" };
}

async function fromInfo(conn: Redis) {
  const [persistence, memory] = await Promise.all([infoFields(conn, "persistence"), infoFields(conn, "memory")]);
  const number = (key: string) => Number(persistence.get(key) ?? "-1");
  return {
    aof: persistence.get("aof_enabled") === "1",
    appendfsync: null,
    // INFO does not show the save points; a snapshot taken since start shows they exist.
    rdb: number("rdb_saves") > 0 || number("rdb_last_bgsave_time_sec") >= 0,
    evictionPolicy: memory.get("maxmemory_policy") ?? "unknown",
  };
}

/**
 * Whether the Redis behind `conn` keeps BullMQ's jobs across a restart (AOF or RDB) and never
 * evicts them (maxmemory-policy noeviction). Never throws: what it cannot read becomes a warning.
 */
export async function checkRedisDurability(conn: Redis): Promise<RedisDurability> {
  let settings: Omit<RedisDurability, "source" | "warnings">;
  let source: RedisDurability["source"] = "config";
  try {
    settings = await fromConfig(conn);
  } catch {
    // Managed Redis services often disable or rename CONFIG; INFO still says most of it.
    source = "info";
    try {
      settings = await fromInfo(conn);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return {
        aof: false, rdb: false, appendfsync: null, evictionPolicy: "unknown", source: "none",
        warnings: [`could not read Redis's persistence settings (${reason}); make sure it runs with appendonly yes, appendfsync everysec and maxmemory-policy noeviction`],
      };
    }
  }
  const warnings: string[] = [];
  const judged = source === "info" ? " (judged from INFO: CONFIG is not allowed on this server)" : "";
  if (!settings.aof && !settings.rdb) {
    warnings.push(`Redis has no persistence, neither AOF nor RDB snapshots${judged}: a Redis restart drops every queued generation job; set appendonly yes with appendfsync everysec`);
  }
  if (settings.aof && settings.appendfsync === "no") {
    warnings.push("Redis's appendfsync is no: the operating system decides when queued jobs reach the disk; set appendfsync everysec");
  }
  if (settings.evictionPolicy !== "noeviction") {
    warnings.push(`Redis's maxmemory-policy is ${settings.evictionPolicy}${judged}: under memory pressure it may evict BullMQ's job keys; set maxmemory-policy noeviction`);
  }
  return { ...settings, source, warnings };
}

/** checkRedisDurability, each warning logged as `redis:durability`. */
export async function warnIfRedisNotDurable(conn: Redis): Promise<RedisDurability> {
  const durability = await checkRedisDurability(conn);
  for (const warning of durability.warnings) log.warn("redis:durability", { warning, source: durability.source });
  return durability;
}

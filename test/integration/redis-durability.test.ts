import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { Queue } from "bullmq";
import { afterAll, describe, expect, it, vi } from "vitest";
import { checkRedisDurability, warnIfRedisNotDurable } from "@/lib/pipeline/redis-durability";
import { freePort } from "./support/processes";
import { ServicesRedis, ThrowawayRedisServer, waitUntil } from "./support/throwaway-redis";

// Durable queues: what the worker's start-up check says about a Redis, and the local Redis of
// scripts/services.sh keeping BullMQ's jobs across a crash, a stop and an upgrade from the old
// setup that had no persistence.

describe("checkRedisDurability", () => {
  const servers: ThrowawayRedisServer[] = [];
  const check = async (args: string[]) => {
    const server = await new ThrowawayRedisServer().start(args);
    servers.push(server);
    const conn = server.connect();
    try {
      return await checkRedisDurability(conn);
    } finally {
      conn.disconnect();
    }
  };

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });

  it("warns about a Redis with neither AOF nor RDB, in the worker's log", async () => {
    const result = await check(["--save", "", "--appendonly", "no", "--maxmemory-policy", "noeviction"]);
    expect(result).toMatchObject({ aof: false, rdb: false, evictionPolicy: "noeviction", source: "config" });
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings[0]).toContain("no persistence");

    const logged = vi.spyOn(console, "log").mockImplementation(() => undefined);
    const conn = servers.at(-1)!.connect();
    let calls: unknown[][];
    try {
      await warnIfRedisNotDurable(conn);
    } finally {
      conn.disconnect();
      calls = [...logged.mock.calls];
      logged.mockRestore();
    }
    const lines = calls.map(([line]) => JSON.parse(String(line)) as { level: string; event: string; detail: { warning: string } });
    expect(lines).toEqual([expect.objectContaining({ level: "warn", event: "redis:durability", detail: expect.objectContaining({ warning: result.warnings[0] }) })]);
  });

  it("is content with AOF every second (or RDB snapshots) and noeviction", async () => {
    const aof = await check(["--save", "", "--appendonly", "yes", "--appendfsync", "everysec", "--maxmemory-policy", "noeviction"]);
    expect(aof).toMatchObject({ aof: true, rdb: false, appendfsync: "everysec", warnings: [] });
    const rdb = await check(["--save", "60 1", "--appendonly", "no", "--maxmemory-policy", "noeviction"]);
    expect(rdb).toMatchObject({ aof: false, rdb: true, warnings: [] });
  });

  it("warns about an eviction policy that may drop job keys, and about appendfsync no", async () => {
    const result = await check(["--save", "", "--appendonly", "yes", "--appendfsync", "no", "--maxmemory-policy", "allkeys-lru"]);
    expect(result.evictionPolicy).toBe("allkeys-lru");
    expect(result.warnings).toHaveLength(2);
    expect(result.warnings.join("\n")).toContain("set maxmemory-policy noeviction");
    expect(result.warnings.join("\n")).toContain("appendfsync is no");
  });

  it("falls back to INFO where CONFIG is disabled, as on managed Redis services", async () => {
    const off = await check(["--save", "", "--appendonly", "no", "--maxmemory-policy", "volatile-lru", "--rename-command", "CONFIG", ""]);
    expect(off).toMatchObject({ aof: false, rdb: false, appendfsync: null, evictionPolicy: "volatile-lru", source: "info" });
    expect(off.warnings).toHaveLength(2);
    expect(off.warnings[0]).toContain("judged from INFO");
    const on = await check(["--save", "", "--appendonly", "yes", "--maxmemory-policy", "noeviction", "--rename-command", "CONFIG", ""]);
    expect(on).toMatchObject({ aof: true, evictionPolicy: "noeviction", source: "info", warnings: [] });
  });

  it("turns an unreachable Redis into a warning, not an error", async () => {
    const server = await new ThrowawayRedisServer().start(["--save", ""]);
    const conn = server.connect();
    await server.stop();
    const result = await checkRedisDurability(conn);
    conn.disconnect();
    expect(result.source).toBe("none");
    expect(result.warnings[0]).toContain("could not read Redis's persistence settings");
  });
});

describe("the local Redis of scripts/services.sh", () => {
  const started: ServicesRedis[] = [];
  const queues: Queue[] = [];

  const services = async () => {
    const s = new ServicesRedis(await freePort());
    started.push(s);
    return s;
  };
  const queueOn = (s: ServicesRedis) => {
    const queue = new Queue("durability", { connection: { host: "127.0.0.1", port: s.port, maxRetriesPerRequest: 1 } });
    queues.push(queue);
    return queue;
  };
  const jobIds = async (s: ServicesRedis) => {
    const queue = queueOn(s);
    const jobs = await queue.getJobs(["waiting", "prioritized", "delayed"]);
    await queue.close();
    return jobs.map((j) => j.id).sort();
  };
  /** The AOF on disk holds this text (written, so a SIGKILL cannot take it back). */
  const inAof = (s: ServicesRedis, text: string) => {
    const dir = path.join(s.redisDir, "appendonlydir");
    if (!existsSync(dir)) return false;
    return readdirSync(dir).some((f) => readFileSync(path.join(dir, f)).includes(text));
  };

  afterAll(async () => {
    await Promise.all(queues.map((q) => q.close().catch(() => undefined)));
    for (const s of started) if (await s.answers()) s.run("stop-redis");
  });

  it("runs with AOF every second and noeviction, and keeps queued jobs across a SIGKILL and a stop", async () => {
    const s = await services();
    s.run("start-redis");
    const conn = s.connect();
    expect(await checkRedisDurability(conn)).toMatchObject({ aof: true, appendfsync: "everysec", evictionPolicy: "noeviction", warnings: [] });
    conn.disconnect();

    const queue = queueOn(s);
    await queue.add("answer", { n: 1 }, { jobId: "gen-crash-1" });
    await queue.add("answer", { n: 2 }, { jobId: "gen-crash-2", priority: 5 });
    await queue.close();
    await waitUntil(() => inAof(s, "gen-crash-2"), 10_000, "the jobs to reach the AOF");
    await s.crash();
    s.run("start-redis");
    expect(await jobIds(s)).toEqual(["gen-crash-1", "gen-crash-2"]);

    s.run("stop-redis"); // shutdown save
    expect(await s.answers()).toBe(false);
    expect(existsSync(path.join(s.redisDir, "dump.rdb"))).toBe(true);
    s.run("start-redis");
    expect(await jobIds(s)).toEqual(["gen-crash-1", "gen-crash-2"]);
  });

  it("takes over a data dir from the old setup without persistence: its snapshot loads and is then kept in the AOF", async () => {
    const s = await services();
    // The old setup: no AOF, no save points; a `shutdown save` left a dump.rdb and nothing else.
    const oldServer = await startOldStyle(s);
    const queue = queueOn(s);
    await queue.add("answer", {}, { jobId: "gen-old-1" });
    await queue.close();
    const conn = s.connect();
    await conn.call("SHUTDOWN", "SAVE").catch(() => undefined); // the connection closes as it exits
    conn.disconnect();
    await waitUntil(() => oldServer.exitCode !== null, 10_000, "the old server to stop");
    expect(existsSync(path.join(s.redisDir, "appendonlydir"))).toBe(false);

    s.run("start-redis");
    expect(await jobIds(s)).toEqual(["gen-old-1"]);
    // Persistence is on now: the job survives a crash through the AOF written from the snapshot.
    await waitUntil(() => inAof(s, "gen-old-1"), 10_000, "the AOF to hold the old job");
    await s.crash();
    s.run("start-redis");
    expect(await jobIds(s)).toEqual(["gen-old-1"]);
  });

  it("turns persistence on in a Redis still running from the old setup, keeping its data", async () => {
    const s = await services();
    const oldServer = await startOldStyle(s);
    const queue = queueOn(s);
    await queue.add("answer", {}, { jobId: "gen-running-1" });
    await queue.close();

    s.run("start-redis"); // finds it running
    const conn = s.connect();
    expect(await checkRedisDurability(conn)).toMatchObject({ aof: true, warnings: [] });
    conn.disconnect();
    await waitUntil(() => inAof(s, "gen-running-1"), 10_000, "the AOF to hold the job");
    oldServer.kill("SIGKILL");
    await waitUntil(async () => !(await s.answers()), 10_000, "the old server to die");
    s.run("start-redis");
    expect(await jobIds(s)).toEqual(["gen-running-1"]);
  });
});

/** A redis-server as the old scripts/services.sh started it: no AOF, no snapshots. */
async function startOldStyle(s: ServicesRedis) {
  mkdirSync(s.redisDir, { recursive: true });
  const child = spawn("redis-server", ["--bind", "127.0.0.1", "--port", String(s.port), "--dir", s.redisDir, "--save", "", "--appendonly", "no", "--maxmemory-policy", "noeviction"], { stdio: "ignore" });
  await waitUntil(() => s.answers(), 10_000, "the old-style redis to start");
  return child;
}

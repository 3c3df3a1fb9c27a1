// SSE fan-out benchmark: N viewers of one generation stream on loopback. Publishes M deltas
// through the worker's StreamWriter (Redis log + pub/sub) and measures publish → receive
// latency at the viewers, plus lost and duplicated messages.
//   tsx workers/bench/sse-fanout.ts [--viewers 1000] [--messages 200] [--interval-ms 20] [--procs 2]
// Needs DATABASE_URL and REDIS_URL (plus the app's secrets), like the workers.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { cpus, loadavg } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { db } from "../../lib/db";
import { generationChannel } from "../../lib/pipeline/contracts";
import { generationEvents } from "../../lib/pipeline/events";
import { channelHub, closeChannelHub } from "../../lib/pipeline/hub";
import { afterSeqOf, generationSse, sseResponse } from "../../lib/pipeline/sse";
import { StreamWriter } from "../../lib/pipeline/stream-log";
import { createRedis } from "../../lib/redis";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const VIEWERS = arg("viewers", 1000);
const MESSAGES = arg("messages", 200);
const INTERVAL_MS = arg("interval-ms", 20);
const PROCS = arg("procs", 2);
const now = () => performance.timeOrigin + performance.now();

function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function main() {
  const model = await db.model.create({
    data: { slug: `bench-fanout-${process.pid}`, displayName: "bench", kind: "openai", status: "retired", engine: {} },
  });
  const generation = await db.generation.create({ data: { modelId: model.id, purpose: "test", messages: [], status: "running" } });
  const server = createServer((req, res) => {
    const close = new AbortController();
    res.on("close", () => close.abort());
    const request = new Request(`http://localhost${req.url}`, { headers: req.headers as Record<string, string> });
    const response = sseResponse((signal) => generationSse(generationEvents(generation.id, { afterSeq: afterSeqOf(request), signal })), { signal: close.signal });
    res.writeHead(200, Object.fromEntries(response.headers));
    Readable.fromWeb(response.body! as import("node:stream/web").ReadableStream).pipe(res);
  });
  server.maxConnections = VIEWERS + 100;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/stream`;

  const started = now();
  const viewers = Array.from({ length: PROCS }, (_, i) => {
    const n = Math.floor(VIEWERS / PROCS) + (i < VIEWERS % PROCS ? 1 : 0);
    const child = spawn(process.execPath, [...process.execArgv, path.join(__dirname, "sse-viewers.ts"), url, String(n)], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    return new Promise<{ latencies: number[]; received: number; duplicates: number; errors: number; seqs: number[] }>((resolve) =>
      child.on("exit", () => resolve(JSON.parse(out))),
    );
  });
  // Publish only once every viewer is subscribed, so the latency is the live path, not a replay.
  const channel = generationChannel(generation.id);
  while (channelHub().listenerCount(channel) < VIEWERS) await new Promise((r) => setTimeout(r, 50));
  const connectMs = now() - started;

  const cpuBefore = process.cpuUsage();
  const redis = createRedis({ maxRetriesPerRequest: null });
  const writer = await StreamWriter.open(redis, generation.id);
  for (let i = 0; i < MESSAGES; i++) {
    writer.write({ type: "delta", text: String(now()) });
    await new Promise((r) => setTimeout(r, INTERVAL_MS));
  }
  writer.write({ type: "done" });
  await writer.flush();
  const results = await Promise.all(viewers);
  const cpu = process.cpuUsage(cpuBefore);
  server.close();

  const latencies = results.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const expected = VIEWERS * (MESSAGES + 1);
  const received = results.reduce((n, r) => n + r.received, 0);
  const duplicates = results.reduce((n, r) => n + r.duplicates, 0);
  const complete = results.flatMap((r) => r.seqs).filter((n) => n === MESSAGES + 1).length;
  const row = {
    date: new Date().toISOString(),
    cpu: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    node: process.version,
    /** 1-minute load average at the end: on a shared machine, compare rows at similar load only. */
    load: +loadavg()[0]!.toFixed(2),
    viewers: VIEWERS,
    messages: MESSAGES,
    intervalMs: INTERVAL_MS,
    connectMs: Math.round(connectMs),
    p50Ms: +quantile(latencies, 0.5).toFixed(2),
    p99Ms: +quantile(latencies, 0.99).toFixed(2),
    maxMs: +(latencies.at(-1) ?? NaN).toFixed(2),
    lost: expected - received + duplicates,
    duplicates,
    viewersComplete: complete,
    errors: results.reduce((n, r) => n + r.errors, 0),
    /** Server CPU (user + system) per delivered message: the load-independent cost of fan-out. */
    serverCpuUsPerDelivery: +((cpu.user + cpu.system) / Math.max(1, received)).toFixed(2),
  };
  console.table([row]);
  const dir = path.join(__dirname, "results");
  mkdirSync(dir, { recursive: true });
  // One file per day; every run of that day is a row in it.
  const file = path.join(dir, `${row.date.slice(0, 10)}.json`);
  const rows: unknown[] = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as unknown[]) : [];
  writeFileSync(file, JSON.stringify([...rows, { bench: "sse-fanout", ...row }], null, 2) + "\n");
  console.log(`| ${row.date.slice(0, 10)} | ${row.cpu}, ${row.cores} cores | ${row.load} | ${row.viewers} | ${row.messages} @ ${row.intervalMs} ms | ${row.p50Ms} | ${row.p99Ms} | ${row.maxMs} | ${row.lost} | ${row.serverCpuUsPerDelivery} |`);

  await db.generation.delete({ where: { id: generation.id } });
  await db.model.delete({ where: { id: model.id } });
  await redis.quit();
  await closeChannelHub();
  await db.$disconnect();
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);

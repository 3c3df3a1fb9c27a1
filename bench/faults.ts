// The fault matrix (run by bench/faults.sh, which gives it its own PostgreSQL and Redis).
// Each trial: a fresh arena model on the worker's CPU runtime, a pre-generation run over the
// whole bank and N live answers with a viewer each; once tokens flow, one fault; then it waits
// until PostgreSQL calls nothing queued or running and counts, per answer:
//   lost        failed or cancelled, or a viewer whose text ends shorter than the stored answer
//   duplicated  a viewer that got a message twice, or more text than the stored answer
//   stuck       still queued or running when the trial gives up (LEITAI_BENCH_DEADLINE_S, 300)
// and the seconds from the fault until the last answer finished.
import { execFileSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import path from "node:path";
import { db } from "../lib/db";
import { createAndEnqueue } from "../lib/generations";
import { DEFAULT_GENERATION_PARAMS, isFinalMessage, type StreamMessage } from "../lib/pipeline/contracts";
import { generationEvents } from "../lib/pipeline/events";
import { closeChannelHub } from "../lib/pipeline/hub";
import { startPregen } from "../lib/pipeline/pregen";
import { closeQueues } from "../lib/pipeline/queues";
import { readLog } from "../lib/pipeline/stream-log";
import { redis } from "../lib/redis";
import { freePort, ROOT, sleep, startWorker, until } from "./lib/worker";

const TRIALS = ["worker", "runtime", "redis-restart", "redis-wipe", "postgres"] as const;
type Trial = (typeof TRIALS)[number];

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const LIVE = Number(arg("live") ?? 8);
const CHOSEN = (arg("trials")?.split(",") ?? [...TRIALS]) as Trial[];
const WRITE = !process.argv.includes("--no-write");
const DEADLINE_MS = Number(process.env.LEITAI_BENCH_DEADLINE_S ?? 300) * 1000;
const MODEL_DIR = process.env.LEITAI_BENCH_MODEL_DIR!;
// The worker's clocks for a dead worker's jobs and for reconciling, as an operator might set them.
const WORKER_CLOCKS = { LEITAI_WORKER_LOCK_MS: "10000", LEITAI_WORKER_STALLED_INTERVAL_MS: "5000", LEITAI_RECONCILE_MS: "5000" };

function services(command: string): void {
  execFileSync("bash", [path.join(ROOT, "scripts/services.sh"), command], { stdio: "pipe" });
}

let runtimePort = 0;
let runtimeUrl = "";
let worker: ChildProcess | null = null;

async function startArenaWorker(): Promise<void> {
  worker = await startWorker({
    ...WORKER_CLOCKS,
    LEITAI_WORKER_ID: `bench-${Date.now()}`,
    LEITAI_RUNTIME_MODELS: `bench-tiny=${MODEL_DIR}`,
    LEITAI_RUNTIME_URL: runtimeUrl,
    LEITAI_RUNTIME_ARGS: "--device cpu --max-num-seqs 8 --log-level warning",
  });
}

function killWorker(): Promise<void> {
  const child = worker;
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill("SIGKILL");
  return exited;
}

/** A browser's view: reconnects after an error from where it was, as EventSource does with Last-Event-ID. */
async function view(generationId: string): Promise<{ text: string; duplicates: number; reconnects: number }> {
  let last = 0;
  let text = "";
  let duplicates = 0;
  let reconnects = 0;
  for (;;) {
    try {
      for await (const m of generationEvents(generationId, { afterSeq: last, stallMs: 0 }) as AsyncIterable<StreamMessage>) {
        if (m.seq <= last) duplicates += 1;
        last = Math.max(last, m.seq);
        if (m.type === "reset") text = "";
        if (m.type === "delta") text += m.text;
        if (isFinalMessage(m)) return { text, duplicates, reconnects };
      }
    } catch {
      // Redis or PostgreSQL away: try again shortly.
    }
    reconnects += 1;
    await sleep(500);
  }
}

async function inject(trial: Trial): Promise<void> {
  if (trial === "worker") {
    await killWorker();
    await sleep(1000); // `npm run up` restarts a crashed worker after its first backoff
    await startArenaWorker();
  } else if (trial === "runtime") {
    const pid = Number(execFileSync("pgrep", ["-f", `leitai_runtime.*--port ${runtimePort}`], { encoding: "utf8" }).trim().split("\n")[0]);
    process.kill(pid, "SIGKILL");
  } else if (trial === "redis-restart") {
    const pid = Number(readFileSync(path.join(process.env.LEITAI_STATE_DIR!, "redis.pid"), "utf8").trim());
    process.kill(pid, "SIGKILL");
    await until(async () => !existsSync(`/proc/${pid}/status`) || readFileSync(`/proc/${pid}/status`, "utf8").includes("zombie"), 10_000, "redis to die");
    await sleep(1000);
    services("start-redis");
  } else if (trial === "redis-wipe") {
    await redis().flushall();
  } else {
    services("stop-pg");
    await sleep(3000);
    services("start-pg");
  }
}

type Row = { trial: Trial; answers: number; lost: number; duplicated: number; stuck: number; recoverS: number | null; reconnects: number };

async function runTrial(trial: Trial): Promise<Row> {
  const slug = `bench-${trial}-${Date.now()}`;
  const model = await db.model.create({
    data: { slug, displayName: slug, kind: "local", engine: { path: MODEL_DIR, runtimeUrl, servedName: "bench-tiny" }, generationDefaults: { maxTokens: 48, temperature: 0 } },
  });
  await sleep(1500); // the worker's model refresh (LEITAI_WORKER_REFRESH_MS below) picks it up
  const run = await startPregen({ modelId: model.id, scope: "all" });
  const params = { ...DEFAULT_GENERATION_PARAMS, maxTokens: 200, temperature: 0 };
  const live = await Promise.all(Array.from({ length: LIVE }, (_, i) => createAndEnqueue({ modelId: model.id, purpose: "live", messages: [{ role: "user", content: `live question ${i}` }], params })));
  const viewers = live.map((g) => ({ id: g.id, seen: view(g.id) }));
  await until(async () => (await readLog(redis(), live[0]!.id)).some((m) => m.type === "delta"), 120_000, "tokens to flow");
  await until(async () => (await db.generation.count({ where: { pregenRunId: run.id } })) > 0, 60_000, "the fan-out");

  const faultAt = Date.now();
  await inject(trial);
  let stuck = 0;
  try {
    await until(async () => (await db.generation.count({ where: { modelId: model.id, status: { in: ["queued", "running"] } } })) === 0, DEADLINE_MS, "every answer");
  } catch {
    stuck = await db.generation.count({ where: { modelId: model.id, status: { in: ["queued", "running"] } } });
  }
  const last = await db.generation.aggregate({ where: { modelId: model.id }, _max: { finishedAt: true } });
  const recoverS = stuck ? null : ((last._max.finishedAt?.getTime() ?? faultAt) - faultAt) / 1000;
  const rows = await db.generation.findMany({ where: { modelId: model.id }, select: { id: true, status: true, text: true } });
  let lost = rows.filter((r) => r.status === "failed" || r.status === "cancelled").length;
  let duplicated = 0;
  let reconnects = 0;
  const byId = new Map(rows.map((r) => [r.id, r]));
  for (const v of viewers) {
    const seen = await Promise.race([v.seen, sleep(30_000).then(() => null)]);
    const stored = byId.get(v.id)!;
    if (!seen) continue; // counted as stuck above
    reconnects += seen.reconnects;
    if (seen.duplicates > 0 || seen.text.length > stored.text.length) duplicated += 1;
    else if (stored.status === "completed" && seen.text !== stored.text) lost += 1;
  }
  return { trial, answers: rows.length, lost, duplicated, stuck, recoverS, reconnects };
}

async function main() {
  process.env.LEITAI_WORKER_REFRESH_MS = "1000";
  runtimePort = await freePort();
  runtimeUrl = `http://127.0.0.1:${runtimePort}`;
  await startArenaWorker();
  const results: Row[] = [];
  for (const trial of CHOSEN) {
    const row = await runTrial(trial);
    results.push(row);
    console.log(`${row.trial}: ${JSON.stringify(row)}`);
  }
  await killWorker();
  const date = new Date().toISOString().slice(0, 10);
  const machine = `${cpus()[0]?.model ?? "unknown CPU"}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB`;
  const header = "| trial | answers | lost | duplicated | stuck | seconds to recover | viewer reconnects |";
  const lines = [header, "|---|---|---|---|---|---|---|", ...results.map((r) => `| ${r.trial} | ${r.answers} | ${r.lost} | ${r.duplicated} | ${r.stuck} | ${r.recoverS?.toFixed(1) ?? "—"} | ${r.reconnects} |`)];
  console.log(`\nfault matrix, ${machine}, ${date} (lock ${WORKER_CLOCKS.LEITAI_WORKER_LOCK_MS} ms, stalled check ${WORKER_CLOCKS.LEITAI_WORKER_STALLED_INTERVAL_MS} ms, reconcile ${WORKER_CLOCKS.LEITAI_RECONCILE_MS} ms)\n`);
  console.log(lines.join("\n"));
  const pass = results.every((r) => r.lost === 0 && r.duplicated === 0 && r.stuck === 0);
  console.log(`\ntarget 0 lost, 0 duplicated, 0 stuck in every trial: ${pass ? "pass" : "FAIL"}`);
  if (WRITE) {
    const dir = path.join(__dirname, "results");
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, `faults-${date}.json`), JSON.stringify({ date, machine, clocks: WORKER_CLOCKS, live: LIVE, results, pass }, null, 2) + "\n");
  }
  await closeQueues();
  await closeChannelHub();
  redis().disconnect();
  await db.$disconnect();
  process.exit(pass ? 0 : 1);
}

main().catch(async (error) => {
  console.error(error);
  await killWorker();
  process.exit(1);
});

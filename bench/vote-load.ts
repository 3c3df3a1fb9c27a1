// The vote endpoint under load on loopback. Creates bank battles for many anonymous voters
// directly in the database, then POSTs their votes with a fixed number of connections in
// flight, and checks afterwards that every acknowledged vote is stored.
//   LEITAI_BENCH_BASE_URL=http://localhost:3300 node --import tsx bench/vote-load.ts [votes] [concurrency] [rate]
// `bash bench/vote-load.sh` sets up a database and a site for it and runs this.
import { randomUUID } from "node:crypto";
import http from "node:http";
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import path from "node:path";
import { db } from "../lib/db";
import { questionTextHash } from "../lib/questions";
import { hashIp, signVoterId, VOTER_COOKIE } from "../lib/voter-id";

const BASE = process.env.LEITAI_BENCH_BASE_URL ?? "http://localhost:3300";
/** Which server path answered: "fast-path" or "next.js" (bench/vote-load.sh runs both). */
const PATH_LABEL = process.env.LEITAI_BENCH_PATH ?? "fast-path";
const VOTES = Number(process.argv[2] ?? 5000);
const CONCURRENCY = Number(process.argv[3] ?? 16);
/** Votes per second for an open-loop run; 0 runs closed-loop with CONCURRENCY in flight. */
const RATE = Number(process.argv[4] ?? 0);
// Closed loop first (JIT, every pooled PostgreSQL connection's prepared statements; it ends
// with nothing queued), then, for an open-loop run, the same rate (the sockets it needs).
const WARMUP = 2000;
/** Models the battles are spread over (every pair in turn). */
const MODELS = Number(process.env.LEITAI_BENCH_MODELS ?? 2);

async function setup(n: number) {
  const category = await db.category.findFirstOrThrow();
  const tag = randomUUID().slice(0, 8);
  const models = await Promise.all(Array.from({ length: MODELS }, (_, i) => db.model.create({
    data: { slug: `bench-${tag}-${i}`, displayName: `Bench ${tag} ${i}`, kind: "local", engine: { path: "/bench" } },
  })));
  const text = `bench question ${tag}`;
  const question = await db.question.create({ data: { text, textHash: questionTextHash(text), categoryId: category.id } });
  const answers = await Promise.all(models.map((m) => db.generation.create({
    data: { modelId: m.id, questionId: question.id, purpose: "pregen", status: "completed", messages: [], text: "ok", finishedAt: new Date() },
  })));
  // One voter per 10 battles keeps every voter far below the per-voter limit.
  // Every pair of models in turn, so votes spread over the pairs like an arena's.
  const pairs = models.flatMap((_, a) => models.flatMap((__, b) => (a < b ? [[a, b] as const] : [])));
  const battles = Array.from({ length: n }, (_, i) => ({ id: randomUUID(), voter: `bench-${tag}-${Math.floor(i / 10)}`, pair: pairs[i % pairs.length]! }));
  const ipHash = hashIp("127.0.0.1");
  for (let i = 0; i < battles.length; i += 1000) {
    const chunk = battles.slice(i, i + 1000);
    await db.battle.createMany({
      data: chunk.map((b) => ({ id: b.id, mode: "bank" as const, questionId: question.id, categoryId: category.id, modelAId: models[b.pair[0]]!.id, modelBId: models[b.pair[1]]!.id, voterKey: `anon:${b.voter}`, ipHash, status: "ready" as const })),
    });
    await db.battleGeneration.createMany({
      data: chunk.flatMap((b) => [
        { battleId: b.id, side: "A" as const, turn: 0, generationId: answers[b.pair[0]]!.id },
        { battleId: b.id, side: "B" as const, turn: 0, generationId: answers[b.pair[1]]!.id },
      ]),
    });
  }
  return battles;
}

// node:http with keep-alive: the load generator shares the machine's cores with the site,
// and fetch() costs several times more CPU per request.
const target = new URL(BASE);
// Open loop: enough sockets that the generator never queues a vote behind another.
const agent = new http.Agent({ keepAlive: true, maxSockets: RATE > 0 ? 1024 : CONCURRENCY });

function post(path: string, cookie: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: target.hostname, port: target.port, path, method: "POST", agent,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), cookie } },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/**
 * Closed loop (RATE 0): CONCURRENCY lanes, each sends its next vote when the last one is
 * answered — the most the site serves. Open loop (RATE > 0): votes are sent on a fixed
 * schedule whatever the answers, and latency counts from the scheduled time, so a site that
 * falls behind shows it in p99 instead of slowing the generator down.
 */
async function run(battles: { id: string; voter: string }[], rate = 0) {
  const latencies: number[] = [];
  let ok = 0;
  let errors = 0;
  const statuses: Record<string, number> = {};
  const winners = ["A", "B", "tie", "both_bad"];
  async function vote(i: number, since: number) {
    const b = battles[i]!;
    try {
      const status = await post(`/api/battles/${b.id}/vote`, `${VOTER_COOKIE}=${signVoterId(b.voter)}`, JSON.stringify({ winner: winners[i % 4] }));
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status === 200) ok++;
      else errors++;
    } catch (error) {
      const code = (error as { code?: string }).code ?? "network error";
      statuses[code] = (statuses[code] ?? 0) + 1;
      errors++;
    }
    latencies.push(performance.now() - since);
  }
  const started = performance.now();
  if (rate > 0) {
    const pending: Promise<void>[] = [];
    for (let i = 0; i < battles.length; i++) {
      const due = started + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      pending.push(vote(i, due));
    }
    await Promise.all(pending);
  } else {
    let next = 0;
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next < battles.length) {
        const i = next++;
        await vote(i, performance.now());
      }
    }));
  }
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
  return { seconds, ok, errors, statuses, rate: battles.length / seconds, p50: q(0.5), p99: q(0.99), max: latencies[latencies.length - 1]! };
}

async function main() {
  const battles = await setup(VOTES + WARMUP);
  await run(battles.slice(0, WARMUP / 2));
  await run(battles.slice(WARMUP / 2, WARMUP), RATE);
  const measured = battles.slice(WARMUP);
  const result = await run(measured, RATE);
  const stored = await db.vote.count({ where: { battleId: { in: measured.map((b) => b.id) } } });
  const cpu = cpus()[0]?.model ?? "unknown CPU";
  const machine = `${cpu}, ${cpus().length} cores`;
  const date = new Date().toISOString().slice(0, 10);
  // Open loop: the site kept up with 500 votes/s if every vote was answered within the p99 bound.
  const pass = (RATE > 0 ? RATE : result.rate) >= 500 && result.p99 <= 100 && result.errors === 0 && stored === result.ok;
  const load = RATE > 0 ? `open loop, ${RATE}/s sent` : `closed loop, ${CONCURRENCY} in flight`;
  const row = { date, machine, path: PATH_LABEL, load, votes: measured.length, ...result, stored };
  const cells = [PATH_LABEL, load, measured.length, result.rate.toFixed(0), result.p50.toFixed(1), result.p99.toFixed(1), result.max.toFixed(1), result.errors, result.ok, stored, pass ? "yes" : "no"];
  console.log("\n| path | load | votes | votes/s answered | p50 ms | p99 ms | max ms | errors | acknowledged | stored | pass (≥ 500/s, p99 ≤ 100 ms, 0 errors, stored = acknowledged) |");
  console.log("|---|---|---|---|---|---|---|---|---|---|---|");
  console.log(`| ${cells.join(" | ")} |`);
  console.log(`status codes: ${JSON.stringify(result.statuses)}; machine: ${machine}; date: ${date}`);
  const dir = path.join(__dirname, "results");
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `votes-${date}.json`);
  let rows: unknown[] = [];
  try {
    rows = JSON.parse(readFileSync(file, "utf8")) as unknown[];
  } catch {
    // first run of the day
  }
  writeFileSync(file, JSON.stringify([...rows, row], null, 2) + "\n");
  const bench = path.join(__dirname, "..", "BENCHMARKS.md");
  if (!readFileSync(bench, "utf8").includes("## Vote endpoint")) {
    appendFileSync(bench, "\n## Vote endpoint\n\n`bash bench/vote-load.sh` starts a site on a fresh database and POSTs votes (node:http, keep-alive) for pre-made bank battles (10 per anonymous voter), closed loop and open loop, after 2,000 warm-up votes; afterwards it counts the stored votes.\n\n| date | machine | path | load | votes | votes/s answered | p50 ms | p99 ms | max ms | errors | acknowledged | stored | pass |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  }
  appendFileSync(bench, `| ${date} | ${machine} | ${cells.join(" | ")} |\n`);
  await db.$disconnect();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

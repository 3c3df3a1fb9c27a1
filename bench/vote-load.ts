// The vote endpoint under load on loopback. Creates bank battles for many anonymous voters
// directly in the database, then POSTs their votes with a fixed number of connections in
// flight, and checks afterwards that every acknowledged vote is stored.
//   LEITAI_BENCH_BASE_URL=http://localhost:3300 node --import tsx bench/vote-load.ts [votes] [concurrency]
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
const WARMUP = 200;

async function setup(n: number) {
  const category = await db.category.findFirstOrThrow();
  const tag = randomUUID().slice(0, 8);
  const models = await Promise.all([0, 1].map((i) => db.model.create({
    data: { slug: `bench-${tag}-${i}`, displayName: `Bench ${tag} ${i}`, kind: "local", engine: { path: "/bench" } },
  })));
  const text = `bench question ${tag}`;
  const question = await db.question.create({ data: { text, textHash: questionTextHash(text), categoryId: category.id } });
  const answers = await Promise.all(models.map((m) => db.generation.create({
    data: { modelId: m.id, questionId: question.id, purpose: "pregen", status: "completed", messages: [], text: "ok", finishedAt: new Date() },
  })));
  // One voter per 10 battles keeps every voter far below the per-voter limit.
  const battles = Array.from({ length: n }, (_, i) => ({ id: randomUUID(), voter: `bench-${tag}-${Math.floor(i / 10)}` }));
  const ipHash = hashIp("127.0.0.1");
  for (let i = 0; i < battles.length; i += 1000) {
    const chunk = battles.slice(i, i + 1000);
    await db.battle.createMany({
      data: chunk.map((b) => ({ id: b.id, mode: "bank" as const, questionId: question.id, categoryId: category.id, modelAId: models[0]!.id, modelBId: models[1]!.id, voterKey: `anon:${b.voter}`, ipHash, status: "ready" as const })),
    });
    await db.battleGeneration.createMany({
      data: chunk.flatMap((b) => [
        { battleId: b.id, side: "A" as const, turn: 0, generationId: answers[0]!.id },
        { battleId: b.id, side: "B" as const, turn: 0, generationId: answers[1]!.id },
      ]),
    });
  }
  return battles;
}

// node:http with keep-alive: the load generator shares the machine's cores with the site,
// and fetch() costs several times more CPU per request.
const target = new URL(BASE);
const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

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

async function run(battles: { id: string; voter: string }[]) {
  const latencies: number[] = [];
  let ok = 0;
  let errors = 0;
  const statuses: Record<number, number> = {};
  let next = 0;
  const winners = ["A", "B", "tie", "both_bad"];
  async function lane() {
    while (next < battles.length) {
      const b = battles[next++]!;
      const started = performance.now();
      try {
        const status = await post(`/api/battles/${b.id}/vote`, `${VOTER_COOKIE}=${signVoterId(b.voter)}`, JSON.stringify({ winner: winners[next % 4] }));
        statuses[status] = (statuses[status] ?? 0) + 1;
        if (status === 200) ok++;
        else errors++;
      } catch {
        errors++;
      }
      latencies.push(performance.now() - started);
    }
  }
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
  return { seconds, ok, errors, statuses, rate: battles.length / seconds, p50: q(0.5), p99: q(0.99), max: latencies[latencies.length - 1]! };
}

async function main() {
  const battles = await setup(VOTES + WARMUP);
  await run(battles.slice(0, WARMUP)); // JIT, connection pools, Prisma's first queries
  const measured = battles.slice(WARMUP);
  const result = await run(measured);
  const stored = await db.vote.count({ where: { battleId: { in: measured.map((b) => b.id) } } });
  const cpu = cpus()[0]?.model ?? "unknown CPU";
  const machine = `${cpu}, ${cpus().length} cores`;
  const date = new Date().toISOString().slice(0, 10);
  const pass = result.rate >= 500 && result.p99 <= 100 && result.errors === 0 && stored === result.ok;
  const row = { date, machine, path: PATH_LABEL, votes: measured.length, concurrency: CONCURRENCY, ...result, stored };
  const cells = [PATH_LABEL, measured.length, CONCURRENCY, result.rate.toFixed(0), result.p50.toFixed(1), result.p99.toFixed(1), result.max.toFixed(1), result.errors, result.ok, stored, pass ? "yes" : "no"];
  console.log("\n| path | votes | concurrency | votes/s | p50 ms | p99 ms | max ms | errors | acknowledged | stored | pass (≥ 500/s, p99 ≤ 100 ms, 0 errors, stored = acknowledged) |");
  console.log("|---|---|---|---|---|---|---|---|---|---|---|");
  console.log(`| ${cells.join(" | ")} |`);
  console.log(`status codes: ${JSON.stringify(result.statuses)}; machine: ${machine}; date: ${date}`);
  const dir = path.join(__dirname, "results");
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `votes-${date}-${PATH_LABEL}.json`), JSON.stringify(row, null, 2) + "\n");
  const bench = path.join(__dirname, "..", "BENCHMARKS.md");
  if (!readFileSync(bench, "utf8").includes("## Vote endpoint")) {
    appendFileSync(bench, "\n## Vote endpoint\n\n`bash bench/vote-load.sh` starts a site on a fresh database and POSTs votes (node:http, keep-alive) for pre-made bank battles (10 per anonymous voter) with a fixed number of requests in flight, after 200 warm-up votes; afterwards it counts the stored votes.\n\n| date | machine | path | votes | concurrency | votes/s | p50 ms | p99 ms | max ms | errors | acknowledged | stored | pass |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  }
  appendFileSync(bench, `| ${date} | ${machine} | ${cells.join(" | ")} |\n`);
  await db.$disconnect();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

// The answer set import's cost at 10,000 rows (bench/answers-import.sh runs it on a database of
// its own): the bank's question import first, then an offline model's answers as a dry run, a
// commit, a re-import (version 2: the existing answers stay, new rows are written) and the
// export. Each step runs through the same lib/ functions the admin API calls.
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import path from "node:path";
import { exportAnswers, importAnswers } from "../lib/admin/answers-import";
import { importQuestions } from "../lib/admin/questions-import";
import { db } from "../lib/db";

const arg = (name: string) => process.argv.indexOf(name);
const ROWS = arg("--rows") > 0 ? Number(process.argv[arg("--rows") + 1]) : 10_000;
const WRITE = arg("--no-write") < 0;

const jsonl = (rows: object[]) => new TextEncoder().encode(rows.map((r) => JSON.stringify(r)).join("\n") + "\n");

async function timed<T>(step: string, rows: number, run: () => Promise<T>): Promise<{ step: string; rows: number; ms: number; result: T }> {
  const t0 = performance.now();
  const result = await run();
  return { step, rows, ms: Math.round(performance.now() - t0), result };
}

async function main() {
  const admin = await db.user.findFirstOrThrow({ where: { role: "admin" } });
  const category = await db.category.findFirstOrThrow({ orderBy: { sortOrder: "asc" } });
  const questions = Array.from({ length: ROWS }, (_, i) => ({ id: `bench-q-${i}`, text: `基准问题 ${i}：请用三句话解释第 ${i} 个概念。`, category: category.slug, language: "zh" }));
  const model = await db.model.create({ data: { slug: "bench-offline", displayName: "Bench offline", kind: "offline", engine: {} } });
  const answers = (version: number) => jsonl(questions.map((q) => ({ question_id: q.id, answer: `第 ${version} 版回答 ${q.id}：` + "这是一个用来测量导入速度的回答。".repeat(8) })));
  const steps = [];
  steps.push(await timed("questions: dry run", ROWS, () => importQuestions({ bytes: jsonl(questions), format: "jsonl", dryRun: true, actorId: admin.id })));
  steps.push(await timed("questions: commit", ROWS, () => importQuestions({ bytes: jsonl(questions), format: "jsonl", dryRun: false, actorId: admin.id })));
  const common = { modelId: model.id, format: "jsonl" as const, createQuestions: false, source: { engine: "bench" }, actorId: admin.id };
  steps.push(await timed("answers: dry run", ROWS, () => importAnswers({ ...common, bytes: answers(1), dryRun: true })));
  steps.push(await timed("answers: commit (version 1)", ROWS, () => importAnswers({ ...common, bytes: answers(1), dryRun: false })));
  steps.push(await timed("answers: commit (version 2)", ROWS, () => importAnswers({ ...common, bytes: answers(2), dryRun: false })));
  steps.push(await timed("answers: export", ROWS, () => exportAnswers({ modelId: model.id, format: "jsonl" })));

  for (const s of steps) {
    const r = s.result as { errorCount?: number; written?: number };
    if (typeof r === "object" && r.errorCount) throw new Error(`${s.step}: ${r.errorCount} errors`);
  }
  const machine = `${cpus()[0]?.model ?? "unknown CPU"}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB`;
  const date = new Date().toISOString().slice(0, 10);
  console.log(`\nanswer set import, ${ROWS} rows, ${machine}, ${date}\n`);
  console.log("| step | rows | ms | rows/s |");
  console.log("|---|---|---|---|");
  for (const s of steps) console.log(`| ${s.step} | ${s.rows} | ${s.ms} | ${Math.round((s.rows / s.ms) * 1000)} |`);
  if (WRITE) {
    const dir = path.join(__dirname, "results");
    mkdirSync(dir, { recursive: true });
    const out = steps.map(({ step, rows, ms }) => ({ step, rows, ms }));
    writeFileSync(path.join(dir, `answers-import-${date}.json`), JSON.stringify({ date, machine, rows: ROWS, steps: out }, null, 2) + "\n");
  }
  await db.$disconnect();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

// A judge run end to end on the CPU runtime (bench/judge-throughput.sh): two contestants with
// answers to a bank of its own, SmolLM2-135M judging every question in both orders (pairwise,
// English), started with the same lib/ call the admin API makes and run by a real worker.
// Reports judgements per second, judge tokens per second and the unparseable share.
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import path from "node:path";
import { db } from "../lib/db";
import { getJudgeProgress, startJudgeRun } from "../lib/judge/runs";
import { REAL_DEMO_MODELS } from "../lib/models/demo";
import { closeQueues } from "../lib/pipeline/queues";
import { questionTextHash } from "../lib/questions";
import { demoRuntimeModels } from "../scripts/lib/demo-paths";
import { freePort, sleep, startWorker } from "./lib/worker";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const QUESTIONS = arg("questions", 12);
const MAX_TOKENS = arg("max-tokens", 128);
const WRITE = !process.argv.includes("--no-write");

async function main() {
  const judge = await db.model.findUniqueOrThrow({ where: { slug: REAL_DEMO_MODELS[0]!.slug } });
  await db.model.update({ where: { id: judge.id }, data: { generationDefaults: { temperature: 0, maxTokens: MAX_TOKENS } } });
  const category = await db.category.create({ data: { slug: "bench-judge", nameZh: "评测基准", nameEn: "Judge bench", sortOrder: 990 } });
  const contestants = [];
  for (const [i, style] of ["A careful answer", "A short answer"].entries()) {
    contestants.push(await db.model.create({ data: { slug: `bench-contestant-${i}`, displayName: style, kind: "offline", engine: {} } }));
  }
  for (let q = 0; q < QUESTIONS; q++) {
    const text = `Question ${q}: explain in a few sentences why the sky is blue at noon and red at sunset (${q}).`;
    const question = await db.question.create({ data: { text, textHash: questionTextHash(text), categoryId: category.id, language: "en" } });
    const answers = [
      "Sunlight scatters off air molecules, and blue light scatters most (Rayleigh scattering), so the noon sky looks blue. At sunset the light crosses much more air, the blue is scattered away, and the reds and oranges remain.",
      "Because of the air.",
    ];
    for (const [i, m] of contestants.entries()) {
      await db.generation.create({ data: { modelId: m.id, questionId: question.id, purpose: "pregen", status: "completed", messages: [{ role: "user", content: text }], text: answers[i]!, finishedAt: new Date() } });
    }
  }

  const runtimeUrl = `http://127.0.0.1:${await freePort()}`;
  const worker = await startWorker({
    LEITAI_WORKER_ID: "bench-judge",
    LEITAI_RUNTIME_MODELS: demoRuntimeModels(),
    LEITAI_RUNTIME_URL: runtimeUrl,
    LEITAI_RUNTIME_ARGS: "--device cpu --max-num-seqs 16 --log-level warning",
  });
  try {
    const t0 = performance.now();
    const { run } = await startJudgeRun({ judgeModelId: judge.id, contestantIds: contestants.map((m) => m.id), categoryIds: [category.id], template: "pairwise", lang: "en" });
    let progress = await getJudgeProgress(run.id);
    while (progress.status === "running") {
      await sleep(500);
      progress = await getJudgeProgress(run.id);
    }
    const seconds = (performance.now() - t0) / 1000;
    const generations = await db.generation.findMany({ where: { judgement: { runId: run.id } }, select: { completionTokens: true, status: true } });
    const tokens = generations.reduce((n, g) => n + (g.completionTokens ?? 0), 0);
    const machine = `${cpus()[0]?.model ?? "unknown CPU"}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB`;
    const date = new Date().toISOString().slice(0, 10);
    const row = {
      judgements: progress.total, completed: progress.done, failed: progress.failed, unparseable: progress.unparseable,
      seconds: Math.round(seconds * 10) / 10, judgementsPerS: Math.round((progress.done / seconds) * 100) / 100,
      judgeTokens: tokens, tokensPerS: Math.round(tokens / seconds),
    };
    console.log(`\njudge run on the CPU runtime: SmolLM2-135M judging ${QUESTIONS} questions × 1 pair × 2 orders, max ${MAX_TOKENS} tokens, ${machine}, ${date}\n`);
    console.log("| judgements | completed | failed | unparseable | seconds | judgements/s | judge tokens | tokens/s |");
    console.log("|---|---|---|---|---|---|---|---|");
    console.log(`| ${row.judgements} | ${row.completed} | ${row.failed} | ${row.unparseable} | ${row.seconds} | ${row.judgementsPerS} | ${row.judgeTokens} | ${row.tokensPerS} |`);
    if (progress.status !== "completed") throw new Error(`the run ended ${progress.status}`);
    if (WRITE) {
      const dir = path.join(__dirname, "results");
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, `judge-throughput-${date}.json`), JSON.stringify({ date, machine, questions: QUESTIONS, maxTokens: MAX_TOKENS, ...row }, null, 2) + "\n");
    }
  } finally {
    worker.kill("SIGTERM");
    await closeQueues();
    await db.$disconnect();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

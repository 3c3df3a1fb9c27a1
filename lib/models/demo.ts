import { db } from "../db";

// Two tiny random-weight Llama models so a fresh arena has something to battle with. Their
// names say what they are: random weights, no real answers.
export const DEMO_MODELS = [
  { slug: "demo-alpaca-a", displayName: "Demo Alpaca A (random demo model)", seed: 1 },
  { slug: "demo-alpaca-b", displayName: "Demo Alpaca B (random demo model)", seed: 2 },
] as const;

/** Registers (or refreshes the path of) each demo model; returns their ids by slug. */
export async function ensureDemoModels({ paths }: { paths: Record<string, string> }): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  for (const demo of DEMO_MODELS) {
    const engine = { path: paths[demo.slug]!, dtype: "float32", chatTemplate: "alpaca2", systemPrompt: null, contextLength: null, ropeScaling: null, runtimeUrl: null, servedName: demo.slug };
    const model = await db.model.upsert({
      where: { slug: demo.slug },
      create: {
        slug: demo.slug, displayName: demo.displayName, kind: "local", organisation: "Leitai demo", licence: "none (random weights)",
        description: "A tiny Llama with random weights, written on first start. It produces noise; it exists to show the arena working.",
        engine, generationDefaults: { maxTokens: 96 },
      },
      update: { engine },
    });
    ids[demo.slug] = model.id;
  }
  return ids;
}

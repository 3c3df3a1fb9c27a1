import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAndEnqueue } from "@/lib/generations";
import { generationParamsOf } from "@/lib/models/engine";
import { getModelHealth } from "@/lib/pipeline/health";
import type { GenerationWorkers } from "@/workers/pool";
import { FakeEngine } from "../support/fake-engine";
import { createModel, finishedGeneration, releasePipeline, startWorkers } from "./helpers";

// Two arena models on one served model (the demo's real model under two sampling settings):
// each has its own queue, consumer and heartbeat, and every request carries its own model's
// sampling and the runtime's chat_template extension.

const SERVED = "tokens:6:5";
const ask = [{ role: "user" as const, content: "What is the capital of France?" }];

describe("two local models sharing one served name", () => {
  let engine: FakeEngine;
  let workers: GenerationWorkers | undefined;

  beforeAll(async () => {
    engine = await new FakeEngine().start();
  });

  afterAll(async () => {
    await workers?.close(1000);
    await engine.stop();
    await releasePipeline();
  });

  it("both answer and both are healthy; each request has its own sampling and the chat template", async () => {
    const engineJson = { path: "/weights/real.gguf", runtimeUrl: engine.baseUrl, servedName: SERVED, chatTemplate: "model" };
    const greedy = await createModel({ kind: "local", engine: engineJson, generationDefaults: { temperature: 0, repetitionPenalty: 1.1, maxTokens: 40 } });
    const sampled = await createModel({
      kind: "local", engine: engineJson, generationDefaults: { temperature: 0.8, topP: 0.95, topK: 0, repetitionPenalty: 1.1, seed: 1234, maxTokens: 40 },
    });
    workers = await startWorkers([greedy, sampled]);
    expect(workers.modelIds.sort()).toEqual([greedy.id, sampled.id].sort());

    const generations = await Promise.all([greedy, sampled].map((m) =>
      createAndEnqueue({ modelId: m.id, purpose: "test", messages: ask, params: generationParamsOf(m.generationDefaults) })));
    for (const g of generations) expect(await finishedGeneration(g.id)).toMatchObject({ status: "completed", text: FakeEngine.text(6) });

    const health = await getModelHealth([greedy.id, sampled.id]);
    expect(health.get(greedy.id)).toMatchObject({ healthy: true, workers: 1 });
    expect(health.get(sampled.id)).toMatchObject({ healthy: true, workers: 1 });

    const bodies = engine.requests.filter((r) => r.model === SERVED).map((r) => r.body);
    expect(bodies).toHaveLength(2);
    for (const body of bodies) expect(body).toMatchObject({ chat_template: "model", repetition_penalty: 1.1, max_tokens: 40 });
    const greedyBody = bodies.find((b) => b.temperature === 0)!;
    expect(greedyBody).not.toHaveProperty("seed");
    expect(bodies.find((b) => b.temperature === 0.8)).toMatchObject({ top_p: 0.95, top_k: 0, seed: 1234 });
  });
});

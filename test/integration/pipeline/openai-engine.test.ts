import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import { cancelGeneration, createAndEnqueue, createGeneration, enqueueGeneration } from "@/lib/generations";
import { DEFAULT_GENERATION_PARAMS, type GenerationParams } from "@/lib/pipeline/contracts";
import { modelQueueName } from "@/lib/pipeline/queues";
import { generationEvents } from "@/lib/pipeline/events";
import { getModelHealth } from "@/lib/pipeline/health";
import type { GenerationWorkers } from "@/workers/pool";
import { FakeEngine } from "../support/fake-engine";
import { freePort } from "../support/processes";
import { collect, createModel, expectSeqsContiguous, finishedGeneration, startWorkers, textOf, waitFor, releasePipeline } from "./helpers";

// openai-kind models against a fake OpenAI-compatible server: the happy path, every failure
// an external endpoint can throw at us, cancellation and priorities.

const params: GenerationParams = { ...DEFAULT_GENERATION_PARAMS, maxTokens: 64 };
const ask = [{ role: "user" as const, content: "你好" }];
const fastRetry = { jobOptions: { attempts: 2, backoff: { type: "fixed", delay: 100 } } };

describe("generation pipeline with an OpenAI-compatible endpoint", () => {
  let engine: FakeEngine;
  let workers: GenerationWorkers;
  const model = (remoteModel: string, baseUrl?: string) =>
    createModel({ kind: "openai", engine: { baseUrl: baseUrl ?? engine.baseUrl, remoteModel }, apiKey: "sk-test-secret" });

  beforeAll(async () => {
    engine = await new FakeEngine().start();
  });

  afterAll(async () => {
    await workers?.close(1000);
    await engine.stop();
    await releasePipeline();
  });

  async function run(remoteModel: string, baseUrl?: string) {
    const m = await model(remoteModel, baseUrl);
    workers = await startWorkers([m]);
    const generation = await createAndEnqueue({ modelId: m.id, purpose: "test", messages: ask, params }, fastRetry);
    const done = await finishedGeneration(generation.id);
    await workers.close(1000);
    return { model: m, generation: done };
  }

  it("streams every token, stores the text in one final write, and sends the decrypted key", async () => {
    const m = await model("tokens:30:5");
    workers = await startWorkers([m]);
    const generation = await createAndEnqueue({ modelId: m.id, purpose: "test", messages: ask, params });
    const messages = await collect(generationEvents(generation.id));
    const row = await db.generation.findUniqueOrThrow({ where: { id: generation.id } });
    expect(row.status).toBe("completed");
    expect(textOf(messages)).toBe(FakeEngine.text(30));
    expect(row.text).toBe(FakeEngine.text(30));
    expect(expectSeqsContiguous(messages)).toBe(true);
    expect(messages.at(-1)).toMatchObject({ type: "done", usage: { promptTokens: 7, completionTokens: 30 } });
    expect(row).toMatchObject({ promptTokens: 7, completionTokens: 30 });
    expect(row.ttftMs).toBeGreaterThanOrEqual(0);
    expect(row.durationMs).toBeGreaterThanOrEqual(row.ttftMs!);
    const sent = engine.requests.find((r) => r.model === "tokens:30:5")!;
    expect(sent.authorization).toBe("Bearer sk-test-secret");
    expect(sent.body).toMatchObject({ stream: true, stream_options: { include_usage: true }, max_tokens: 64 });
    expect(sent.body.top_k).toBeUndefined(); // hosted APIs reject unknown sampling fields
    // No message names the model: battles stay blind.
    expect(JSON.stringify(messages)).not.toContain(m.slug);

    // A finished generation comes from PostgreSQL: the whole text, then done.
    const replay = await collect(generationEvents(generation.id));
    expect(replay.map((x) => x.type)).toEqual(["delta", "done"]);
    expect(textOf(replay)).toBe(row.text);
    // Enqueueing again is harmless: the job id is the generation id.
    await enqueueGeneration(row);
    const health = await getModelHealth([m.id]);
    expect(health.get(m.id)).toMatchObject({ healthy: true, workers: 1 });
    const completed = `leitai_queue_jobs_finished_total{queue="${modelQueueName(m.id, "live")}",model="${m.slug}",outcome="completed"} 1`;
    const metrics = await waitFor(async () => {
      const text = await workers.renderMetrics();
      return text.includes(completed) ? text : null;
    }, 5_000, "the completed job to be counted");
    expect(metrics).toContain(`leitai_generation_first_token_seconds_count{model="${m.slug}"} 1`);
    expect(metrics).toContain(`leitai_generation_duration_seconds_count{model="${m.slug}"} 1`);
    expect(metrics).toContain(`leitai_generated_tokens_total{model="${m.slug}"} 30`);
    await workers.close(1000);
    expect((await getModelHealth([m.id])).get(m.id)?.healthy).toBe(false);
  });

  it("ends with a clear error when the endpoint refuses connections", async () => {
    const closedPort = await freePort();
    const { generation } = await run("whatever", `http://127.0.0.1:${closedPort}/v1`);
    expect(generation.status).toBe("failed");
    expect(generation.error).toBe(`engine unreachable at http://127.0.0.1:${closedPort}/v1/chat/completions: ECONNREFUSED`);
  });

  it("ends with a timeout error when the endpoint stalls before the first token or mid-answer", async () => {
    const first = await run("stall-first");
    expect(first.generation.status).toBe("failed");
    expect(first.generation.error).toMatch(/engine timed out: no first token/);
    const mid = await run("stall-mid");
    expect(mid.generation.status).toBe("failed");
    expect(mid.generation.error).toMatch(/engine timed out: no chunk for too long/);
    expect(engine.open).toBe(0); // the stalled requests were closed, not leaked
  });

  it("fails malformed chunks, truncated streams and rejected requests with their reason; a rejection is not retried", async () => {
    const malformed = await run("malformed");
    expect(malformed.generation.error).toMatch(/malformed chunk \(not JSON\): \{this is not json/);
    const truncated = await run("truncated");
    expect(truncated.generation.error).toMatch(/engine (connection broke mid-stream|closed the stream before it finished)/);
    const before = engine.requests.filter((r) => r.model === "reject").length;
    const rejected = await run("reject");
    expect(rejected.generation.error).toBe("engine answered HTTP 400: max_tokens is too large");
    expect(engine.requests.filter((r) => r.model === "reject").length - before).toBe(1);
    // Viewers get a category, not the engine's words.
    const messages = await collect(generationEvents(rejected.generation.id));
    expect(messages.at(-1)).toMatchObject({ type: "error", error: "The model could not answer." });
  });

  it("retries an overloaded endpoint with backoff, then fails with its reason", async () => {
    const m = await model("overloaded");
    workers = await startWorkers([m]);
    const generation = await createAndEnqueue({ modelId: m.id, purpose: "test", messages: ask, params }, { jobOptions: { attempts: 3, backoff: { type: "fixed", delay: 50 } } });
    const done = await finishedGeneration(generation.id);
    expect(done.status).toBe("failed");
    expect(done.error).toMatch(/HTTP 429/);
    expect(engine.requests.filter((r) => r.model === "overloaded").length).toBeGreaterThanOrEqual(3);
    await workers.close(1000);
  });

  it("cancels a queued generation and aborts a running one, closing its engine request", async () => {
    const m = await model("tokens:400:20");
    workers = await startWorkers([m], { defaultConcurrency: 1 });
    const running = await createAndEnqueue({ modelId: m.id, purpose: "test", messages: ask, params });
    const queued = await createAndEnqueue({ modelId: m.id, purpose: "test", messages: ask, params });
    const events = collect(generationEvents(running.id));
    await waitFor(async () => (await db.generation.findUniqueOrThrow({ where: { id: running.id } })).status === "running", 10_000, "running");
    await waitFor(async () => engine.open === 1, 5_000, "the engine stream");
    expect(await cancelGeneration({ generationId: queued.id })).toEqual({ status: "cancelled" });
    expect((await db.generation.findUniqueOrThrow({ where: { id: queued.id } })).status).toBe("cancelled");
    await cancelGeneration({ generationId: running.id });
    await waitFor(async () => engine.open === 0, 5_000, "the engine request to close");
    const row = await finishedGeneration(running.id);
    expect(row.status).toBe("cancelled");
    expect((await events).at(-1)).toMatchObject({ type: "error", error: "cancelled" });
    expect(await cancelGeneration({ generationId: running.id })).toEqual({ status: "cancelled" });
    await workers.close(1000);
  });

  it("runs a live job before pre-generation jobs queued earlier on the same model", async () => {
    const m = await model("tokens:3:100"); // 0.3 s an answer: the live lane fetches its job while the first is running
    const pregen: string[] = [];
    for (let i = 0; i < 5; i++) {
      const g = await createGeneration({ modelId: m.id, purpose: "pregen", messages: ask, params });
      await enqueueGeneration(g);
      pregen.push(g.id);
    }
    const live = await createAndEnqueue({ modelId: m.id, purpose: "live", messages: ask, params });
    workers = await startWorkers([m], { defaultConcurrency: 1 });
    await finishedGeneration(live.id);
    for (const id of pregen) await finishedGeneration(id);
    const rows = await db.generation.findMany({ where: { modelId: m.id }, orderBy: { startedAt: "asc" } });
    // Both lanes start at once, so one pre-generation answer may have taken the slot first; no
    // other one starts before the live answer is done.
    const liveRow = rows.find((r) => r.id === live.id)!;
    const others = rows.filter((r) => r.id !== live.id);
    expect(others.filter((r) => r.startedAt! < liveRow.startedAt!).length).toBeLessThanOrEqual(1);
    expect(others.filter((r) => r.startedAt! > liveRow.startedAt! && r.startedAt! < liveRow.finishedAt!)).toEqual([]);
    await workers.close(1000);
  });

  it("picks up a model added after start and drops one that is disabled", async () => {
    const slug = `pipe-late-${Date.now().toString(36)}`;
    const first = await model("tokens:2:0");
    workers = await startWorkers([first], { models: [first.slug, slug] });
    expect(workers.modelIds).toEqual([first.id]);
    const late = await createModel({ kind: "openai", engine: { baseUrl: engine.baseUrl, remoteModel: "tokens:2:0" }, slug });
    await workers.refresh();
    expect(workers.modelIds.sort()).toEqual([first.id, late.id].sort());
    const generation = await createAndEnqueue({ modelId: late.id, purpose: "test", messages: ask, params });
    expect((await finishedGeneration(generation.id)).status).toBe("completed");
    await db.model.update({ where: { id: first.id }, data: { status: "disabled" } });
    await workers.refresh();
    expect(workers.modelIds).toEqual([late.id]);
    await workers.close(1000);
  });
});

import type { Model, Prisma } from "@prisma/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { draftStatusOf } from "@/lib/admin/model-draft";
import { db } from "@/lib/db";
import { createAndEnqueue } from "@/lib/generations";
import { DEFAULT_GENERATION_PARAMS, generationLogKey, type GenerationParams } from "@/lib/pipeline/contracts";
import { redis } from "@/lib/redis";
import type { GenerationWorkers } from "@/workers/pool";
import { RuntimeDraftSync } from "@/workers/runtime-drafts";
import type { RuntimeSupervisor } from "@/workers/runtime-supervisor";
import { freePort, SLOW_CASE_MS } from "../support/processes";
import { createModel, finishedGeneration, releasePipeline, startWorkers, waitFor } from "./helpers";
import { startRuntime, writeDemoModels } from "./runtime-support";

// A draft set in a model's settings reaches the supervised gpu-runtime (CPU, tiny random
// models): the worker drains the runtime's models, restarts it with --draft, and resumes.

const greedy: GenerationParams = { ...DEFAULT_GENERATION_PARAMS, temperature: 0, maxTokens: 40, seed: 3 };
const messages = [{ role: "user" as const, content: "从前有一座山，" }];
type Card = { id: string; speculative?: { draft?: string; num_speculative_tokens?: number; acceptance_rate?: number | null; error?: string } };

describe("speculative drafts from the admin's model settings", { timeout: SLOW_CASE_MS }, () => {
  let runtime: RuntimeSupervisor;
  let runtimeUrl: string;
  let workers: GenerationWorkers;
  let sync: RuntimeDraftSync;
  let model: Model;
  let target: string;
  let otherDraft: string;
  let plainAnswer: string;

  const card = async (): Promise<Card> => {
    const body = (await (await fetch(`${runtimeUrl}/v1/models`)).json()) as { data: Card[] };
    return body.data.find((c) => c.id === "spec-target")!;
  };
  const setDraft = async (draft: { draftPath: string | null; numSpeculativeTokens?: number }) => {
    model = await db.model.update({ where: { id: model.id }, data: { engine: { ...(model.engine as object), ...draft } as Prisma.InputJsonValue } });
  };
  const answer = async (params = greedy) => {
    const generation = await createAndEnqueue({ modelId: model.id, purpose: "test", messages, params });
    return finishedGeneration(generation.id, 60_000);
  };

  beforeAll(async () => {
    const demos = writeDemoModels(["spec-target", "spec-other"]);
    target = demos[0]!.path;
    otherDraft = demos[1]!.path;
    const port = await freePort();
    runtimeUrl = `http://127.0.0.1:${port}`;
    runtime = await startRuntime([demos[0]!], port);
    model = await createModel({ kind: "local", engine: { path: target, runtimeUrl, servedName: "spec-target" } });
    workers = await startWorkers([model], { defaultConcurrency: 4, timeouts: { connectMs: 5_000, firstTokenMs: 60_000, idleMs: 20_000 } });
    // A drain that outwaits four long answers on a slow, shared CI machine: the first case checks they finished, not how fast.
    sync = new RuntimeDraftSync({ runtime, pool: workers, runtimeUrl, servedNames: ["spec-target"], drainMs: 150_000, healthyTimeoutMs: 120_000 });
    const plain = await answer();
    expect(plain.status).toBe("completed");
    plainAnswer = plain.text;
  });

  afterAll(async () => {
    await workers?.close(2000);
    await runtime?.stop();
    await releasePipeline();
  });

  it("restarts the runtime with the draft once the running generation has finished; greedy answers stay the same", async () => {
    expect(await sync.sync()).toBe(false); // nothing set: no restart
    expect((await card()).speculative).toBeUndefined();
    expect(await draftStatusOf(model)).toBeNull();

    // Long answers are running when the draft is set (four at once: a tiny model is fast): the restart waits for them.
    const long = await Promise.all([1, 2, 3, 4].map((seed) =>
      createAndEnqueue({ modelId: model.id, purpose: "test", messages, params: { ...greedy, seed, repetitionPenalty: 1, maxTokens: 1900 } })));
    await waitFor(async () => (await redis().llen(generationLogKey(long[0]!.id))) >= 1, 60_000, "the long generations to stream");
    // The target as its own draft: every greedy proposal is the target's own token.
    await setDraft({ draftPath: target, numSpeculativeTokens: 3 });
    expect(await draftStatusOf(model)).toMatchObject({ state: "pending" });
    const restartsBefore = runtime.restarts;
    const restart = runtime.restart.bind(runtime);
    const ids = long.map((g) => g.id);
    // The long generations as they were when the runtime went down for its restart.
    let atRestart: { status: string; completionTokens: number | null }[] = [];
    runtime.restart = async (drafts, timeoutMs) => {
      atRestart = await db.generation.findMany({ where: { id: { in: ids } }, select: { status: true, completionTokens: true } });
      return restart(drafts, timeoutMs);
    };
    expect(await db.generation.count({ where: { id: { in: ids }, status: "running" } })).toBeGreaterThan(0);
    expect(await sync.sync()).toBe(true);
    expect(runtime.restarts).toBe(restartsBefore + 1);
    expect(atRestart).toHaveLength(ids.length);
    for (const finished of atRestart) {
      expect(finished.status).toBe("completed");
      expect(finished.completionTokens).toBeGreaterThan(100);
    }

    expect((await card()).speculative).toMatchObject({ draft: "spec-target", num_speculative_tokens: 3 });
    const withDraft = await answer();
    expect(withDraft.status).toBe("completed");
    expect(withDraft.text).toBe(plainAnswer);
    const status = await draftStatusOf(model);
    expect(status).toMatchObject({ state: "running", configured: { path: target, numSpeculativeTokens: 3 } });
    expect(status!.acceptanceRate).toBeGreaterThan(0.9);
    expect(await sync.sync()).toBe(false); // unchanged: no second restart
  });

  it("changes the draft, and a draft that cannot load leaves the model served without one, saying why", async () => {
    await setDraft({ draftPath: otherDraft, numSpeculativeTokens: 2 });
    expect(await draftStatusOf(model)).toMatchObject({ state: "pending" });
    expect(await sync.sync()).toBe(true);
    expect((await card()).speculative).toMatchObject({ draft: "spec-other", num_speculative_tokens: 2 });
    expect((await answer()).text).toBe(plainAnswer); // a random draft: fewer tokens accepted, same answer

    await setDraft({ draftPath: "/nonexistent/spec-draft" });
    expect(await sync.sync()).toBe(true);
    expect((await card()).speculative?.error).toContain("does not exist");
    expect(await draftStatusOf(model)).toMatchObject({ state: "failed" });
    expect((await answer()).text).toBe(plainAnswer);

    await setDraft({ draftPath: null });
    expect(await sync.sync()).toBe(true);
    expect((await card()).speculative).toBeUndefined();
    expect(await draftStatusOf(model)).toBeNull();
  });

  it("generations still running at the drain deadline go back to the queue and finish on the restarted runtime", async () => {
    const impatient = new RuntimeDraftSync({ runtime, pool: workers, runtimeUrl, servedNames: ["spec-target"], drainMs: 100, healthyTimeoutMs: 120_000 });
    const long = await Promise.all([1, 2].map((seed) =>
      createAndEnqueue({ modelId: model.id, purpose: "test", messages, params: { ...greedy, seed, repetitionPenalty: 1, maxTokens: 1900 } })));
    const ids = long.map((g) => g.id);
    await waitFor(async () => (await db.generation.count({ where: { id: { in: ids }, status: "running" } })) === 2, 60_000, "both to run");
    await setDraft({ draftPath: target, numSpeculativeTokens: 4 });
    expect(await impatient.sync()).toBe(true);
    const done = await Promise.all(ids.map((id) => finishedGeneration(id, 120_000)));
    expect((await card()).speculative).toMatchObject({ draft: "spec-target", num_speculative_tokens: 4 });
    const again = await createAndEnqueue({ modelId: model.id, purpose: "test", messages, params: { ...greedy, repetitionPenalty: 1, maxTokens: 1900 } });
    const reference = await finishedGeneration(again.id, 120_000);
    for (const g of done) {
      expect(g.status).toBe("completed");
      expect(g.completionTokens).toBe(1900);
      expect(g.text).toBe(reference.text); // retried from the start: the whole answer, once
      const log = (await redis().lrange(generationLogKey(g.id), 0, -1)).map((m) => JSON.parse(m) as { type: string });
      expect(log.some((m) => m.type === "reset")).toBe(true); // the aborted attempt's text was taken back
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import { paramsHash } from "@/lib/generations";
import { cancelPregen, getPregenProgress, retryFailed, startPregen } from "@/lib/pipeline/pregen";
import { generationParamsOf } from "@/lib/models/engine";
import type { GenerationWorkers } from "@/workers/pool";
import { FakeEngine } from "../support/fake-engine";
import { createModel, startWorkers, waitFor, releasePipeline } from "./helpers";

// Pre-generation runs: fan-out, skipping answers that exist, progress, retry and cancel.

describe("pre-generation", () => {
  let engine: FakeEngine;
  let workers: GenerationWorkers | undefined;
  let categoryId: string;
  let categorySize: number;

  beforeAll(async () => {
    engine = await new FakeEngine().start();
    const category = await db.category.findFirstOrThrow({ where: { questions: { some: { active: true } } }, orderBy: { sortOrder: "asc" } });
    categoryId = category.id;
    categorySize = await db.question.count({ where: { categoryId, active: true } });
  });

  afterAll(async () => {
    await workers?.close(1000);
    await engine.stop();
    await releasePipeline();
  });

  const settled = (runId: string) =>
    waitFor(async () => {
      const p = await getPregenProgress(runId);
      return p.status !== "running" ? p : null;
    }, 30_000, `pregen run ${runId} to settle`);

  it("answers a category once, then skips questions that already have an answer with the same params", async () => {
    const model = await createModel({ kind: "openai", engine: { baseUrl: engine.baseUrl, remoteModel: "tokens:4:0" }, generationDefaults: { maxTokens: 32 } });
    workers = await startWorkers([model], { pregen: true });
    const run = await startPregen({ modelId: model.id, scope: "category", categoryId });
    const progress = await settled(run.id);
    expect(progress).toMatchObject({ status: "completed", total: categorySize, done: categorySize, failed: 0, queued: 0, running: 0, etaSeconds: 0 });
    const rows = await db.generation.findMany({ where: { pregenRunId: run.id }, include: { question: true } });
    const params = generationParamsOf({ maxTokens: 32 });
    for (const g of rows) {
      expect(g).toMatchObject({ purpose: "pregen", status: "completed", paramsHash: paramsHash(params), text: FakeEngine.text(4) });
      expect(g.messages).toEqual([{ role: "user", content: g.question!.text }]);
      expect(g.params).toEqual(params);
    }
    const again = await startPregen({ modelId: model.id, scope: "category", categoryId });
    expect(await settled(again.id)).toMatchObject({ status: "completed", total: 0 });

    // A question back in rotation (its answers were published meanwhile) is answered anew, once.
    const returned = rows[0]!.questionId!;
    await db.question.update({ where: { id: returned }, data: { answersPublishedUntil: new Date() } });
    try {
      for (const total of [1, 0]) {
        const rerun = await startPregen({ modelId: model.id, scope: "category", categoryId });
        expect(await settled(rerun.id)).toMatchObject({ status: "completed", total });
      }
      expect(await db.generation.count({ where: { questionId: returned, modelId: model.id, status: "completed" } })).toBe(2);
    } finally {
      await db.question.update({ where: { id: returned }, data: { answersPublishedUntil: null } });
    }
    await workers.close(1000);
  });

  it("retries failed answers and cancels what is still waiting", async () => {
    const model = await createModel({ kind: "openai", engine: { baseUrl: engine.baseUrl, remoteModel: "reject" } });
    workers = await startWorkers([model], { pregen: true, defaultConcurrency: 1 });
    const questionIds = (await db.question.findMany({ where: { categoryId }, take: 3, select: { id: true } })).map((q) => q.id);
    const run = await startPregen({ modelId: model.id, scope: "ids", questionIds });
    expect(await settled(run.id)).toMatchObject({ status: "completed", total: 3, failed: 3, done: 0 });

    // The endpoint is fixed, now slow: retry, and cancel the run while it works through them.
    await db.model.update({ where: { id: model.id }, data: { engine: { baseUrl: engine.baseUrl, remoteModel: "tokens:200:10" } } });
    expect(await retryFailed(run.id)).toBe(3);
    await waitFor(async () => (await getPregenProgress(run.id)).running === 1, 10_000, "one running");
    await cancelPregen(run.id);
    const progress = await waitFor(async () => {
      const p = await getPregenProgress(run.id);
      return p.running === 0 ? p : null;
    }, 5_000, "the run to stop");
    expect(progress).toMatchObject({ status: "cancelled", cancelled: 3, queued: 0, failed: 0 });
    await workers.close(1000);
  });
});

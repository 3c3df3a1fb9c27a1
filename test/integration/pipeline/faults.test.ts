import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Generation } from "@prisma/client";
import { db } from "@/lib/db";
import { createAndEnqueue } from "@/lib/generations";
import { DEFAULT_GENERATION_PARAMS, type StreamMessage } from "@/lib/pipeline/contracts";
import { generationEvents } from "@/lib/pipeline/events";
import { computeAndStoreRatingRun } from "@/lib/arena/ratings-job";
import { startPregen } from "@/lib/pipeline/pregen";
import { ratingsQueue } from "@/lib/pipeline/queues";
import { reconcileGenerations } from "@/lib/pipeline/reconcile";
import { readLog } from "@/lib/pipeline/stream-log";
import { redis } from "@/lib/redis";
import { FakeEngine } from "../support/fake-engine";
import { freePort, SLOW_CASE_MS } from "../support/processes";
import { ServicesRedis } from "../support/throwaway-redis";
import { killWorker, spawnWorker, workerReady, type WorkerProcess } from "../support/worker-process";
import { collect, createModel, releasePipeline, textOf, waitFor } from "./helpers";
import { writeDemoModels } from "./runtime-support";

// The failure model, tried for real: a worker killed with SIGKILL, Redis killed and restarted,
// Redis wiped, the gpu-runtime killed. Each time every answer completes, every viewer ends with
// the stored text (a reset allowed, nothing twice), and nothing is left queued or running.
// Redis is a server of this file's own (scripts/services.sh, append-only persistence), so
// killing it touches no other test.

const LOCK_MS = 2_000;
const STALLED_INTERVAL_MS = 1_000;

let redisServer: ServicesRedis;
let engine: FakeEngine;
const workers: WorkerProcess[] = [];

function workerEnv(slugs: string[], extra: Record<string, string> = {}): Record<string, string> {
  return {
    REDIS_URL: process.env.REDIS_URL!,
    LEITAI_WORKER_MODELS: slugs.join(","),
    LEITAI_WORKER_LOCK_MS: String(LOCK_MS),
    LEITAI_WORKER_STALLED_INTERVAL_MS: String(STALLED_INTERVAL_MS),
    LEITAI_WORKER_SHUTDOWN_MS: "2000",
    LEITAI_RECONCILE_MS: "1000",
    LEITAI_WORKER_CONCURRENCY: "8",
    ...extra,
  };
}

async function startWorker(id: string, slugs: string[], extra: Record<string, string> = {}): Promise<WorkerProcess> {
  const worker = await spawnWorker(id, workerEnv(slugs, extra));
  workers.push(worker);
  await workerReady(worker);
  return worker;
}

/** A viewer that follows one generation from its first message to its last. */
function watch(generationId: string): Promise<StreamMessage[]> {
  return collect(generationEvents(generationId, { stallMs: 0 }));
}

/** The viewer saw exactly the stored answer: seqs only go up, a reset drops what came before. */
function expectSameAsStored(messages: StreamMessage[], row: Generation) {
  expect(row.status).toBe("completed");
  const seqs = messages.map((m) => m.seq);
  expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  expect(new Set(seqs).size).toBe(seqs.length);
  expect(messages.at(-1)?.type).toBe("done");
  expect(textOf(messages)).toBe(row.text);
}

async function noneOpen(modelId: string, timeoutMs: number): Promise<void> {
  await waitFor(async () => (await db.generation.count({ where: { modelId, status: { in: ["queued", "running"] } } })) === 0, timeoutMs, "every generation to finish");
}

async function deltasLogged(generationId: string, n: number): Promise<void> {
  await waitFor(async () => (await readLog(redis(), generationId)).filter((m) => m.type === "delta").length >= n, 20_000, `${n} tokens of ${generationId}`);
}

/** Waits until the run has a generation for every active question of the bank (at least 50). */
async function fannedOut(runId: string): Promise<number> {
  const bank = await db.question.count({ where: { active: true } });
  expect(bank).toBeGreaterThanOrEqual(50);
  await waitFor(async () => (await db.generation.count({ where: { pregenRunId: runId } })) === bank, 20_000, "the fan-out");
  return bank;
}

/** The run ends once its last answer has (settled by that answer's worker, or by the fan-out or the reconciler). */
async function runSettled(runId: string): Promise<void> {
  await waitFor(async () => (await db.pregenRun.findUniqueOrThrow({ where: { id: runId } })).status === "completed", 30_000, "the run to be completed");
}

async function counts(runId: string): Promise<Record<string, number>> {
  const groups = await db.generation.groupBy({ by: ["status"], where: { pregenRunId: runId }, _count: { _all: true } });
  return Object.fromEntries(groups.map((g) => [g.status, g._count._all]));
}

describe("the pipeline converges back to PostgreSQL after a fault", { timeout: SLOW_CASE_MS }, () => {
  beforeAll(async () => {
    redisServer = new ServicesRedis(await freePort());
    redisServer.run("start-redis");
    // Before anything reads the environment: this file's clients use its own Redis.
    process.env.REDIS_URL = `redis://127.0.0.1:${redisServer.port}`;
    engine = await new FakeEngine().start();
  });

  afterAll(async () => {
    for (const w of workers) await killWorker(w);
    await engine?.stop();
    await releasePipeline();
    redis().disconnect();
    redisServer?.run("stop-redis");
  });

  it("(a) a worker killed mid-stream: a new worker takes the answer over and completes it", async () => {
    const model = await createModel({ kind: "openai", engine: { baseUrl: engine.baseUrl, remoteModel: "tokens:80:25" } });
    const first = await startWorker("fault-a1", [model.slug]);
    const generation = await createAndEnqueue({ modelId: model.id, purpose: "live", messages: [{ role: "user", content: "hi" }], params: DEFAULT_GENERATION_PARAMS });
    const viewer = watch(generation.id);
    await deltasLogged(generation.id, 10);
    await killWorker(first);
    await startWorker("fault-a2", [model.slug]);

    await noneOpen(model.id, 60_000);
    const row = await db.generation.findUniqueOrThrow({ where: { id: generation.id } });
    expect(row.text).toBe(FakeEngine.text(80));
    expect(row.attempt).toBe(2);
    const messages = await viewer;
    expect(messages.some((m) => m.type === "reset")).toBe(true);
    expectSameAsStored(messages, row);
  });

  it("(b) Redis killed and restarted mid-stream with pre-generation queued: every answer completes", async () => {
    const model = await createModel({ kind: "openai", engine: { baseUrl: engine.baseUrl, remoteModel: "tokens:20:30" } });
    await startWorker("fault-b", [model.slug]);
    const run = await startPregen({ modelId: model.id, scope: "all" });
    const total = await fannedOut(run.id);
    const live = await createAndEnqueue({ modelId: model.id, purpose: "live", messages: [{ role: "user", content: "live" }], params: { ...DEFAULT_GENERATION_PARAMS } });
    const liveViewer = watch(live.id);
    const running = await waitFor(async () => {
      const rows = await db.generation.findMany({ where: { pregenRunId: run.id, status: "running" }, take: 3 });
      return rows.length >= 2 ? rows : null;
    }, 20_000, "pre-generation to run");
    const viewers = running.map((g) => ({ id: g.id, messages: watch(g.id) }));
    await deltasLogged(live.id, 3);
    const before = await counts(run.id);
    expect(before.queued ?? 0).toBeGreaterThanOrEqual(20); // still plenty queued when Redis goes

    await redisServer.crash();
    redisServer.run("start-redis");

    await noneOpen(model.id, 120_000);
    const after = await counts(run.id);
    expect(after).toEqual({ completed: total });
    await runSettled(run.id);
    const texts = await db.generation.findMany({ where: { pregenRunId: run.id }, select: { text: true } });
    expect(texts.every((g) => g.text === FakeEngine.text(20))).toBe(true);
    expectSameAsStored(await liveViewer, await db.generation.findUniqueOrThrow({ where: { id: live.id } }));
    for (const v of viewers) expectSameAsStored(await v.messages, await db.generation.findUniqueOrThrow({ where: { id: v.id } }));
  });

  it("(c) Redis wiped (FLUSHALL): the reconciler enqueues every open answer again and all complete", async () => {
    const model = await createModel({ kind: "openai", engine: { baseUrl: engine.baseUrl, remoteModel: "tokens:20:30" } });
    await startWorker("fault-c", [model.slug]);
    const run = await startPregen({ modelId: model.id, scope: "all" });
    const total = await fannedOut(run.id);
    const live = await createAndEnqueue({ modelId: model.id, purpose: "live", messages: [{ role: "user", content: "live" }], params: DEFAULT_GENERATION_PARAMS });
    const liveViewer = watch(live.id);
    await deltasLogged(live.id, 3);
    expect((await counts(run.id)).queued ?? 0).toBeGreaterThanOrEqual(20);

    await redis().flushall();

    await noneOpen(model.id, 120_000);
    expect(await counts(run.id)).toEqual({ completed: total });
    await runSettled(run.id);
    const liveRow = await db.generation.findUniqueOrThrow({ where: { id: live.id } });
    expect(liveRow.text).toBe(FakeEngine.text(20));
    expectSameAsStored(await liveViewer, liveRow);
  });

  it("a vote whose rating recompute never reached Redis is made good by the reconciler", async () => {
    // The earlier cases' workers reconcile every second and consume the ratings queue: they
    // would owe, enqueue and run this recompute themselves. Only this test's passes run here.
    for (const w of workers) await killWorker(w);
    const [a, b] = [await createModel({ kind: "openai", engine: { baseUrl: engine.baseUrl, remoteModel: "tokens:1:0" } }), await createModel({ kind: "openai", engine: { baseUrl: engine.baseUrl, remoteModel: "tokens:1:0" } })];
    const battles: string[] = [];
    try {
      expect(await ratingsQueue().getJobCountByTypes("waiting", "delayed", "active")).toBe(0);
      // A rating run from elsewhere that read the vote covers it, and then nothing is owed: cast
      // votes until one is left uncovered (the first, unless something else computes ratings).
      let owed = false;
      for (let attempt = 0; attempt < 5 && !owed; attempt++) {
        const battle = await db.battle.create({ data: { mode: "live", modelAId: a.id, modelBId: b.id, voterKey: "v-reconcile", ipHash: "ip", status: "voted" } });
        battles.push(battle.id);
        await db.vote.create({ data: { battleId: battle.id, winner: "A", voterKey: "v-reconcile", ipHash: "ip", modelAId: a.id, modelBId: b.id } });
        owed = (await reconcileGenerations(redis(), { modelIds: [] })).ratings;
        if (!owed) {
          const latest = await db.ratingRun.findFirstOrThrow({ orderBy: { version: "desc" } });
          expect(latest.votesSeen).toBe(await db.vote.count());
        }
      }
      expect(owed).toBe(true);
      expect(await ratingsQueue().getJobCountByTypes("waiting", "delayed", "active")).toBe(1);
      // Owed once: a second pass finds the recompute on its way.
      expect((await reconcileGenerations(redis(), { modelIds: [] })).ratings).toBe(false);
    } finally {
      await ratingsQueue().obliterate({ force: true });
      await db.battle.deleteMany({ where: { id: { in: battles } } });
    }
  });

  it("a rating run counts the votes it read, so a vote cast while it computed is still owed", async () => {
    for (const w of workers) await killWorker(w);
    const [a, b] = [await createModel({ kind: "openai", engine: { baseUrl: engine.baseUrl, remoteModel: "tokens:1:0" } }), await createModel({ kind: "openai", engine: { baseUrl: engine.baseUrl, remoteModel: "tokens:1:0" } })];
    const battles: string[] = [];
    try {
      let owed = false;
      for (let attempt = 0; attempt < 5 && !owed; attempt++) {
        const battle = await db.battle.create({ data: { mode: "live", modelAId: a.id, modelBId: b.id, voterKey: "v-during", ipHash: "ip", status: "voted" } });
        battles.push(battle.id);
        const run = await computeAndStoreRatingRun({ bootstrapRounds: 2 });
        // The vote was cast while the run computed: older than the run row, not in what it read.
        await db.vote.create({ data: { battleId: battle.id, winner: "B", voterKey: "v-during", ipHash: "ip", modelAId: a.id, modelBId: b.id, createdAt: new Date(run.createdAt.getTime() - 1000) } });
        owed = (await reconcileGenerations(redis(), { modelIds: [] })).ratings;
        if (!owed) {
          // Only a later run that read the vote may cover it.
          const latest = await db.ratingRun.findFirstOrThrow({ orderBy: { version: "desc" } });
          expect(latest.version).toBeGreaterThan(run.version);
          expect(latest.votesSeen).toBe(await db.vote.count());
        }
      }
      expect(owed).toBe(true);
    } finally {
      await ratingsQueue().obliterate({ force: true });
      await db.battle.deleteMany({ where: { id: { in: battles } } });
    }
  });

  it("(d) the gpu-runtime killed mid-generation: the answer waits for the supervisor to bring it back, then completes", async () => {
    const [tiny] = writeDemoModels(["fault-tiny"]);
    const port = await freePort();
    const runtimeUrl = `http://127.0.0.1:${port}`;
    const model = await createModel({ kind: "local", engine: { path: tiny!.path, runtimeUrl, servedName: "fault-tiny" } });
    await startWorker("fault-d", [model.slug], {
      LEITAI_RUNTIME_MODELS: `fault-tiny=${tiny!.path}`,
      LEITAI_RUNTIME_URL: runtimeUrl,
      LEITAI_RUNTIME_ARGS: "--device cpu --max-num-seqs 4 --kv-blocks 512 --log-level warning",
      LEITAI_ENGINE_FIRST_TOKEN_TIMEOUT_MS: "60000",
    });
    const params = { ...DEFAULT_GENERATION_PARAMS, temperature: 0, maxTokens: 1500 };
    const generation = await createAndEnqueue({ modelId: model.id, purpose: "live", messages: [{ role: "user", content: "tell me a story" }], params });
    const viewer = watch(generation.id);
    await deltasLogged(generation.id, 20);
    const runtimePid = Number(execFileSync("pgrep", ["-f", `leitai_runtime.*--port ${port}`], { encoding: "utf8" }).trim().split("\n")[0]);
    process.kill(runtimePid, "SIGKILL");

    await noneOpen(model.id, 180_000);
    const row = await db.generation.findUniqueOrThrow({ where: { id: generation.id } });
    expect(row.completionTokens).toBeGreaterThan(100);
    expect(row.attempt).toBeGreaterThanOrEqual(2);
    const messages = await viewer;
    expect(messages.some((m) => m.type === "reset")).toBe(true);
    expectSameAsStored(messages, row);
    // Greedy: the restarted answer is the one a fresh request gets.
    const fresh = await createAndEnqueue({ modelId: model.id, purpose: "live", messages: [{ role: "user", content: "tell me a story" }], params });
    await noneOpen(model.id, 120_000);
    const freshRow = await db.generation.findUniqueOrThrow({ where: { id: fresh.id } });
    expect(freshRow.completionTokens).toBe(row.completionTokens);
    expect(freshRow.text).toBe(row.text);
  });
});

import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import type { Generation, Model } from "@prisma/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import { generationParamsOf } from "@/lib/models/engine";
import type { ChatMessage, GenerationParams, StreamMessage } from "@/lib/pipeline/contracts";
import { streamChatCompletion } from "@/lib/pipeline/engine-client";
import { startPregen } from "@/lib/pipeline/pregen";
import { generationQueue } from "@/lib/pipeline/queues";
import { readLog } from "@/lib/pipeline/stream-log";
import { redis } from "@/lib/redis";
import { processAlive, RuntimeSupervisor, stopStaleRuntime, waitForFreePort } from "@/workers/runtime-supervisor";
import { freePort } from "../support/processes";
import { killWorker, spawnWorker, workerReady, type WorkerProcess } from "../support/worker-process";
import { createModel, releasePipeline, textOf, waitFor } from "./helpers";
import { runningSequences, writeDemoModels } from "./runtime-support";

// Scale-out, as an operator does it: two worker processes against one PostgreSQL and one Redis,
// each supervising its own gpu-runtime (CPU, a tiny random-weight model) on its own port, both
// consuming the queues of one arena model registered once. The model names no runtime URL, so
// each worker calls the runtime of its own LEITAI_RUNTIME_URL, as on two machines. A
// pre-generation run over a category keeps both busy; one worker is SIGKILLed mid-answer. The
// survivor finishes every answer: one generation per question, each completed once, its stream
// log one clean attempt (or a reset then one clean attempt), its text the model's greedy answer
// as the other runtime gave it before the kill; and the killed worker's runtime went with it.

const SERVED = "scale-tiny";
const LOCK_MS = 3_000;
const RUNTIME_ARGS = "--device cpu --max-num-seqs 4 --kv-blocks 512 --log-level warning";
// Greedy answers of the demo model to these run to max tokens (none stops after a few tokens),
// so a kill finds answers in the middle.
const QUESTIONS = [1, 3, 4, 5, 11, 15].map((n) => `question ${n} about scaling`);
const DEFAULTS = { temperature: 0, repetitionPenalty: 1.1, maxTokens: 600 };
const TIMEOUTS = { connectMs: 10_000, firstTokenMs: 60_000, idleMs: 30_000 };

type Machine = { worker: WorkerProcess; runtimeUrl: string; port: number };

async function startMachine(id: string, slug: string, modelPath: string): Promise<Machine> {
  const port = await freePort();
  const runtimeUrl = `http://127.0.0.1:${port}`;
  const worker = await spawnWorker(id, {
    LEITAI_WORKER_MODELS: slug,
    LEITAI_WORKER_LOCK_MS: String(LOCK_MS),
    LEITAI_WORKER_STALLED_INTERVAL_MS: "1000",
    LEITAI_WORKER_SHUTDOWN_MS: "2000",
    LEITAI_RUNTIME_MODELS: `${SERVED}=${modelPath}`,
    LEITAI_RUNTIME_URL: runtimeUrl,
    LEITAI_RUNTIME_ARGS: RUNTIME_ARGS,
  });
  return { worker, runtimeUrl, port };
}

/** The gpu-runtime the worker process supervises (its child running leitai_runtime). */
function runtimePidOf(worker: WorkerProcess): number {
  const children = execFileSync("ps", ["-o", "pid=", "--ppid", String(worker.child.pid)], { encoding: "utf8" }).split(/\s+/).filter(Boolean).map(Number);
  const pid = children.find((p) => readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0").includes("leitai_runtime"));
  if (!pid) throw new Error(`worker ${worker.id} supervises no runtime`);
  return pid;
}

/** Where the worker's supervisor records its runtime's pid (per host and port, in the temp dir). */
function pidFileOf(machine: Machine): string {
  return new RuntimeSupervisor({ models: [], url: machine.runtimeUrl, python: "", packageDir: "" }).pidFile;
}

/** What the runtime answers, called as a worker calls it (same request body, same streaming parse). */
async function answerOf(runtimeUrl: string, messages: ChatMessage[], params: GenerationParams): Promise<string> {
  let text = "";
  const target = { baseUrl: `${runtimeUrl}/v1`, model: SERVED, extendedSampling: true, chatTemplate: null };
  for await (const chunk of streamChatCompletion(target, messages, params, { timeouts: TIMEOUTS })) if (chunk.type === "delta") text += chunk.text;
  return text;
}

async function requestsFinished(runtimeUrl: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${runtimeUrl}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^leitai_requests_total\{finish_reason="(\w+)",model="([^"]+)"\} ([0-9.e+-]+)$/gm)) if (m[2] === SERVED) out[m[1]!] = Number(m[3]);
  return out;
}

/** One attempt's clean stream, or a reset and then one: seqs rising, one done at the end, the stored text. */
function expectLogOf(messages: StreamMessage[], row: Generation, resets: number) {
  const seqs = messages.map((m) => m.seq);
  expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  expect(new Set(seqs).size).toBe(seqs.length);
  expect(messages.filter((m) => m.type === "reset")).toHaveLength(resets);
  expect(messages.filter((m) => m.type === "done")).toHaveLength(1);
  expect(messages.at(-1)?.type).toBe("done");
  expect(messages.some((m) => m.type === "error")).toBe(false);
  expect(textOf(messages)).toBe(row.text);
}

describe("two workers, each with its own runtime, on the same queues", () => {
  const run = randomBytes(3).toString("hex");
  const machines: Machine[] = [];
  let model: Model;
  let categoryId: string;
  let weightsDir: string | undefined;

  beforeAll(async () => {
    const [tiny] = writeDemoModels([SERVED]);
    weightsDir = path.dirname(tiny!.path);
    // Registered once, with no runtime URL: every worker calls the runtime it supervises.
    model = await createModel({ kind: "local", engine: { path: tiny!.path, servedName: SERVED }, generationDefaults: DEFAULTS });
    const category = await db.category.create({ data: { slug: `scale-${run}`, nameZh: "扩展", nameEn: "Scale-out" } });
    categoryId = category.id;
    await db.question.createMany({
      data: QUESTIONS.map((text, i) => ({ text, textHash: `scale-${run}-${i}`, categoryId, language: "en" })),
    });
    machines.push(await startMachine(`scale-a-${run}`, model.slug, tiny!.path), await startMachine(`scale-b-${run}`, model.slug, tiny!.path));
    await Promise.all(machines.map((m) => workerReady(m.worker)));
  });

  afterAll(async () => {
    for (const m of machines) {
      await killWorker(m.worker);
      rmSync(pidFileOf(m), { force: true });
    }
    if (weightsDir) rmSync(weightsDir, { recursive: true, force: true });
    await releasePipeline();
    await db.question.deleteMany({ where: { categoryId } });
    await db.category.deleteMany({ where: { id: categoryId } });
    redis().disconnect();
  });

  it("a worker killed mid-answer: the other finishes every answer, each once, as the model gives it", { timeout: 120_000 }, async () => {
    const [victim, survivor] = machines as [Machine, Machine];
    const params = generationParamsOf(model.generationDefaults);
    const questions = await db.question.findMany({ where: { categoryId }, select: { id: true, text: true } });
    // The victim's runtime, before anything runs: what the model answers greedily to each question.
    const expected = new Map(await Promise.all(questions.map(async (q) =>
      [q.id, await answerOf(victim.runtimeUrl, [{ role: "user", content: q.text }], params)] as const)));
    const victimRuntime = runtimePidOf(victim.worker);
    const queue = generationQueue(model.id, "pregen");

    const pregen = await startPregen({ modelId: model.id, scope: "category", categoryId });
    // Both workers generating, the victim with an answer part-way out in its runtime.
    const interrupted = await waitFor(async () => {
      const active = await queue.getActive();
      const mine = active.filter((j) => j.processedBy === victim.worker.id).map((j) => j.id!);
      if (!mine.length || !active.some((j) => j.processedBy === survivor.worker.id)) return null;
      const midway: string[] = [];
      for (const row of await db.generation.findMany({ where: { id: { in: mine }, status: "running" } })) {
        const deltas = (await readLog(redis(), row.id)).filter((m) => m.type === "delta").length;
        if (deltas >= 5 && deltas < 400) midway.push(row.id);
      }
      return midway.length && (await runningSequences(victim.runtimeUrl))[SERVED]! > 0 ? midway : null;
    }, 60_000, "both workers to be generating");
    // Everything the victim holds at the kill (the answers part-way out among them).
    const held = (await queue.getActive()).filter((j) => j.processedBy === victim.worker.id).map((j) => j.id!);
    const killedAt = new Date();
    await killWorker(victim.worker);

    // The killed worker's runtime goes with it (the kernel's parent-death signal): nothing holds
    // its port, and its pidfile names no live runtime for the next supervisor to stop.
    await waitFor(async () => !processAlive(victimRuntime), 10_000, "the killed worker's runtime to exit");
    expect(await waitForFreePort("127.0.0.1", victim.port, 5_000)).toBe(true);
    expect(await stopStaleRuntime(pidFileOf(victim), victim.port)).toBe("none");

    await waitFor(async () => (await db.pregenRun.findUniqueOrThrow({ where: { id: pregen.id } })).status === "completed", 90_000, "the run to complete");
    const rows = await db.generation.findMany({ where: { modelId: model.id } });
    // One answer per question (and turn), every one completed.
    expect(rows.map((g) => `${g.questionId}#${g.turn}`).sort()).toEqual(questions.map((q) => `${q.id}#0`).sort());
    expect(rows.filter((g) => g.status !== "completed" || g.pregenRunId !== pregen.id).map((g) => `${g.status}: ${g.error}`)).toEqual([]);

    let takenOver = 0;
    let bySurvivor = 0;
    for (const row of rows) {
      expect(row.text).toBe(expected.get(row.questionId!));
      const job = (await queue.getJob(row.id))!;
      expect(await job.getState()).toBe("completed");
      if (job.processedBy === survivor.worker.id) bySurvivor += 1;
      if (row.attempt > 1) {
        // Started by the victim, restarted once by the survivor, completed there.
        expect(held).toContain(row.id);
        expect(row.attempt).toBe(2);
        expect(job.processedBy).toBe(survivor.worker.id);
        expect(row.finishedAt!.getTime()).toBeGreaterThan(killedAt.getTime());
        takenOver += 1;
        expectLogOf(await readLog(redis(), row.id), row, 1);
      } else {
        // Never started twice: one worker ran it from first token to last.
        expect(row.attempt).toBe(1);
        expect(interrupted).not.toContain(row.id);
        if (row.finishedAt! > killedAt) expect(job.processedBy).toBe(survivor.worker.id);
        expectLogOf(await readLog(redis(), row.id), row, 0);
      }
    }
    expect(takenOver).toBeGreaterThanOrEqual(interrupted.length);
    // The survivor's runtime ran each of its answers once, none aborted.
    const finished = await requestsFinished(survivor.runtimeUrl);
    expect((finished.stop ?? 0) + (finished.length ?? 0)).toBe(bySurvivor);
    expect(finished.abort ?? 0).toBe(0);
    expect(processAlive(runtimePidOf(survivor.worker))).toBe(true);
  });
});

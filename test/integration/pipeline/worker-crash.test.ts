import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import { createAndEnqueue } from "@/lib/generations";
import { DEFAULT_GENERATION_PARAMS } from "@/lib/pipeline/contracts";
import { generationEvents } from "@/lib/pipeline/events";
import { generationQueue, modelQueueName } from "@/lib/pipeline/queues";
import { readLog } from "@/lib/pipeline/stream-log";
import { redis } from "@/lib/redis";
import { FakeEngine } from "../support/fake-engine";
import { freePort, ROOT, SLOW_CASE_MS } from "../support/processes";
import { collect, createModel, finishedGeneration, textOf, waitFor, releasePipeline } from "./helpers";

// Real worker processes (node_modules/.bin/tsx workers/main.ts): one is killed with SIGKILL in
// the middle of a generation; the other takes the job over once its lock expires.

const LOCK_MS = 2_000;
const STALLED_INTERVAL_MS = 1_000;

type WorkerProcess = { child: ChildProcess; id: string; healthPort: number; output: string[] };

async function spawnWorker(id: string, slug: string): Promise<WorkerProcess> {
  const healthPort = await freePort();
  const child = spawn(path.join(ROOT, "node_modules/.bin/tsx"), ["workers/main.ts"], {
    cwd: ROOT,
    env: {
      ...process.env,
      LEITAI_WORKER_ID: id,
      LEITAI_WORKER_MODELS: slug,
      LEITAI_WORKER_HEALTH_PORT: String(healthPort),
      LEITAI_WORKER_LOCK_MS: String(LOCK_MS),
      LEITAI_WORKER_STALLED_INTERVAL_MS: String(STALLED_INTERVAL_MS),
      LEITAI_WORKER_SHUTDOWN_MS: "2000",
      LEITAI_RUNTIME_MODELS: "",
    },
    stdio: ["ignore", "pipe", "pipe"],
    // tsx runs the worker in a child node process: a group of its own lets SIGKILL reach both.
    detached: true,
  });
  const output: string[] = [];
  child.stdout!.on("data", (d) => output.push(String(d)));
  child.stderr!.on("data", (d) => output.push(String(d)));
  return { child, id, healthPort, output };
}

function killGroup(worker: WorkerProcess, signal: NodeJS.Signals) {
  try {
    process.kill(-worker.child.pid!, signal);
  } catch {
    // already gone
  }
}

async function ready(worker: WorkerProcess): Promise<void> {
  await waitFor(async () => {
    try {
      return (await fetch(`http://127.0.0.1:${worker.healthPort}/healthz/ready`)).status === 200;
    } catch {
      return false;
    }
  }, 60_000, `worker ${worker.id} to be ready (${worker.output.join("").slice(-500)})`);
}

describe("a worker killed mid-generation", { timeout: SLOW_CASE_MS }, () => {
  let engine: FakeEngine;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    engine = await new FakeEngine().start();
  });

  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null) killGroup(w, "SIGKILL");
    await engine.stop();
    await releasePipeline();
  });

  it("is taken over by another worker, which restarts the answer and completes it", async () => {
    const model = await createModel({ kind: "openai", engine: { baseUrl: engine.baseUrl, remoteModel: "tokens:150:20" } });
    workers.push(await spawnWorker("crash-a", model.slug), await spawnWorker("crash-b", model.slug));
    await Promise.all(workers.map(ready));
    const generation = await createAndEnqueue({ modelId: model.id, purpose: "live", messages: [{ role: "user", content: "hi" }], params: DEFAULT_GENERATION_PARAMS });
    const viewer = collect(generationEvents(generation.id));
    const job = await waitFor(async () => {
      const j = await generationQueue(model.id, "live").getJob(generation.id);
      return j?.processedBy ? j : null;
    }, 10_000, "a worker to take the job");
    await waitFor(async () => engine.open === 1, 5_000, "the engine stream");
    // Some tokens are out before the kill, so the viewer must see a reset.
    await waitFor(async () => (await readLog(redis(), generation.id)).filter((m) => m.type === "delta").length >= 5, 10_000, "some tokens to be out");
    const victim = workers.find((w) => w.id === job.processedBy)!;
    const survivor = workers.find((w) => w !== victim)!;
    killGroup(victim, "SIGKILL");

    const row = await finishedGeneration(generation.id, LOCK_MS + STALLED_INTERVAL_MS * 2 + 30_000);
    expect(row.status).toBe("completed");
    expect(row.text).toBe(FakeEngine.text(150));
    // The viewer saw the first attempt's tokens, then a reset, then the whole answer (so the
    // killed worker was the one generating, and the survivor did it again).
    const messages = await viewer;
    expect(messages.some((m) => m.type === "reset")).toBe(true);
    expect(textOf(messages)).toBe(row.text);

    // The survivor ran the answer once, from its first token to the completed job.
    const completed = `leitai_queue_jobs_finished_total{queue="${modelQueueName(model.id, "live")}",model="${model.slug}",outcome="completed"} 1`;
    const metrics = await waitFor(async () => {
      const text = await (await fetch(`http://127.0.0.1:${survivor.healthPort}/metrics`)).text();
      return text.includes(completed) ? text : null;
    }, 5_000, "the survivor to count the completed job");
    expect(metrics).toContain(`leitai_generation_first_token_seconds_count{model="${model.slug}"} 1`);
    expect(metrics).toContain(`leitai_generation_duration_seconds_count{model="${model.slug}"} 1`);
    expect((await fetch(`http://127.0.0.1:${survivor.healthPort}/healthz/live`)).status).toBe(200);

    // SIGTERM: the survivor closes cleanly and leaves nothing running.
    const exited = new Promise<number | null>((resolve) => survivor.child.once("exit", (code) => resolve(code)));
    // To the worker itself: the tsx wrapper SIGKILLs its child if a relayed signal is not
    // acknowledged within ~60 ms, which a loaded machine can miss.
    const node = execFileSync("ps", ["-o", "pid=", "--ppid", String(survivor.child.pid)], { encoding: "utf8" }).trim().split(/\s+/)[0];
    process.kill(Number(node), "SIGTERM");
    expect(await exited, survivor.output.join("").slice(-2000)).toBe(0);
    expect(await db.generation.count({ where: { modelId: model.id, status: "running" } })).toBe(0);
  });
});

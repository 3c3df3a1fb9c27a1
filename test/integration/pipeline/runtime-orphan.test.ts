import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Model } from "@prisma/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAndEnqueue } from "@/lib/generations";
import { DEFAULT_GENERATION_PARAMS } from "@/lib/pipeline/contracts";
import { processAlive, stopStaleRuntime, waitForFreePort } from "@/workers/runtime-supervisor";
import { freePort, ROOT, SLOW_CASE_MS } from "../support/processes";
import { createModel, finishedGeneration, releasePipeline, waitFor } from "./helpers";
import { RUNTIME_DIR, RUNTIME_PYTHON, writeDemoModels } from "./runtime-support";

// A runtime never outlives its worker. A real worker process (through the tsx wrapper, as
// `npm run workers` starts it) supervises a CPU runtime with a tiny model; SIGKILL of the worker
// takes the runtime with it and frees its port, and the next worker's runtime starts there and
// serves. A runtime that survived anyway (recorded in the port's pidfile) is stopped by the next
// supervisor; another live worker's runtime, or a process that merely reused the pid, is not.

const RUNTIME_ARGS = "--device cpu --max-num-seqs 4 --kv-blocks 256 --log-level warning";
type WorkerProcess = { wrapper: ChildProcess; healthPort: number; output: string[] };

/** Direct children of `pid` (from /proc). */
function childrenOf(pid: number): number[] {
  try {
    return execFileSync("ps", ["-o", "pid=", "--ppid", String(pid)], { encoding: "utf8" }).split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function commandLineOf(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
}

async function healthy(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2000) })).ok;
  } catch {
    return false;
  }
}

describe("a runtime never outlives its worker", { timeout: SLOW_CASE_MS }, () => {
  let model: Model;
  let modelPath: string;
  let port: number;
  let runtimeUrl: string;
  let pidFile: string;
  const workers: WorkerProcess[] = [];
  const strays: ChildProcess[] = [];

  const spawnWorker = async (): Promise<WorkerProcess> => {
    const healthPort = await freePort();
    const wrapper = spawn(path.join(ROOT, "node_modules/.bin/tsx"), ["workers/main.ts"], {
      cwd: ROOT,
      env: {
        ...process.env,
        LEITAI_WORKER_MODELS: model.slug,
        LEITAI_WORKER_HEALTH_PORT: String(healthPort),
        LEITAI_WORKER_SHUTDOWN_MS: "2000",
        LEITAI_RUNTIME_MODELS: `orphan-a=${modelPath}`,
        LEITAI_RUNTIME_URL: runtimeUrl,
        LEITAI_RUNTIME_ARGS: RUNTIME_ARGS,
        LEITAI_RUNTIME_PYTHON: RUNTIME_PYTHON,
      },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true, // a group of its own, so the teardown can stop whatever is left
    });
    const output: string[] = [];
    wrapper.stdout!.on("data", (d) => output.push(String(d)));
    wrapper.stderr!.on("data", (d) => output.push(String(d)));
    const worker = { wrapper, healthPort, output };
    workers.push(worker);
    await waitFor(() => healthy(`http://127.0.0.1:${healthPort}/healthz/ready`), 150_000, `the worker to be ready (${output.join("").slice(-800)})`);
    return worker;
  };

  /** The worker process itself: the node process the tsx wrapper started. */
  const workerPid = (worker: WorkerProcess) => {
    const [pid] = childrenOf(worker.wrapper.pid!);
    expect(pid, "the tsx wrapper's worker process").toBeDefined();
    return pid!;
  };

  beforeAll(async () => {
    modelPath = writeDemoModels(["orphan-a"])[0]!.path;
    port = await freePort();
    runtimeUrl = `http://127.0.0.1:${port}`;
    pidFile = path.join(tmpdir(), `leitai-runtime-127.0.0.1-${port}.pid`);
    model = await createModel({ kind: "local", engine: { path: modelPath, runtimeUrl, servedName: "orphan-a" } });
  });

  afterAll(async () => {
    for (const w of workers) {
      try {
        process.kill(-w.wrapper.pid!, "SIGKILL");
      } catch {
        // already gone
      }
    }
    for (const s of strays) s.kill("SIGKILL");
    rmSync(pidFile, { force: true }); // the last worker was killed: its runtime could not clear it
    await releasePipeline();
  });

  it("SIGKILL of the worker takes its runtime along; the next worker's runtime gets the port and serves", async () => {
    const first = await spawnWorker();
    const worker = workerPid(first);
    const runtime = Number(readFileSync(pidFile, "utf8"));
    // The runtime is bound to the process that supervises it, not to the wrapper above it.
    expect(childrenOf(worker)).toContain(runtime);
    const args = commandLineOf(runtime);
    expect(args[args.indexOf("--parent-pid") + 1]).toBe(String(worker));

    process.kill(worker, "SIGKILL");
    await waitFor(async () => !processAlive(runtime), 10_000, `runtime ${runtime} to exit with its worker`);
    expect(await waitForFreePort("127.0.0.1", port, 5_000)).toBe(true);

    const second = await spawnWorker();
    const replacement = Number(readFileSync(pidFile, "utf8"));
    expect(replacement).not.toBe(runtime);
    expect(childrenOf(workerPid(second))).toContain(replacement);
    expect(second.output.join("")).not.toContain("address already in use");
    const generation = await createAndEnqueue({
      modelId: model.id, purpose: "test", messages: [{ role: "user", content: "hello" }],
      params: { ...DEFAULT_GENERATION_PARAMS, temperature: 0, maxTokens: 8 },
    });
    const done = await finishedGeneration(generation.id, 60_000);
    expect(done.status).toBe("completed");
    expect(done.completionTokens).toBeGreaterThan(0);

    // Another supervisor on this port leaves a live worker's runtime alone.
    expect(await stopStaleRuntime(pidFile, port)).toBe("owned");
    expect(processAlive(replacement)).toBe(true);
    expect(await healthy(`${runtimeUrl}/health`)).toBe(true);
  });

  it("a runtime that survived its supervisor is stopped by the next one; a process that reused the pid is not", async () => {
    // A runtime with no parent link (as the old supervisor started them), recorded for its port.
    const strayPort = await freePort();
    const strayPidFile = path.join(mkdtempSync(path.join(tmpdir(), "leitai-pid-")), "runtime.pid");
    const stray = spawn(RUNTIME_PYTHON, ["-m", "leitai_runtime", "--model", `orphan-a=${modelPath}`, "--host", "127.0.0.1", "--port", String(strayPort), ...RUNTIME_ARGS.split(" ")], {
      cwd: RUNTIME_DIR, stdio: "ignore", detached: true,
    });
    strays.push(stray);
    writeFileSync(strayPidFile, `${stray.pid}\n`);
    await waitFor(() => healthy(`http://127.0.0.1:${strayPort}/health`), 120_000, "the stray runtime to serve");

    // Recorded for another port: not this supervisor's business.
    expect(await stopStaleRuntime(strayPidFile, strayPort + 1)).toBe("none");
    expect(await stopStaleRuntime(strayPidFile, strayPort)).toBe("stopped");
    expect(processAlive(stray.pid!)).toBe(false);
    expect(await waitForFreePort("127.0.0.1", strayPort, 5_000)).toBe(true);

    // The pidfile now names some other process (the pid reused): it is left alone.
    const other = spawn("sleep", ["60"], { stdio: "ignore" });
    strays.push(other);
    writeFileSync(strayPidFile, `${other.pid}\n`);
    expect(await stopStaleRuntime(strayPidFile, strayPort)).toBe("none");
    expect(processAlive(other.pid!)).toBe(true);
    expect(existsSync(strayPidFile)).toBe(true);
  });
});

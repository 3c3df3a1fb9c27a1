import { spawn, type ChildProcess } from "node:child_process";
import { freePort, ROOT } from "./processes";

// A real worker process (workers/main.ts under node itself, not the tsx wrapper, so a signal
// sent to its pid reaches the worker), for tests that kill it.

export type WorkerProcess = { child: ChildProcess; id: string; healthPort: number; output: string[] };

export async function spawnWorker(id: string, env: Record<string, string>): Promise<WorkerProcess> {
  const healthPort = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", "workers/main.ts"], {
    cwd: ROOT,
    env: { ...process.env, LEITAI_WORKER_ID: id, LEITAI_WORKER_HEALTH_PORT: String(healthPort), LEITAI_RUNTIME_MODELS: "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  child.stdout!.on("data", (d) => output.push(String(d)));
  child.stderr!.on("data", (d) => output.push(String(d)));
  return { child, id, healthPort, output };
}

export async function workerReady(worker: WorkerProcess, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(`http://127.0.0.1:${worker.healthPort}/healthz/ready`)).status === 200) return;
    } catch {
      // not listening yet
    }
    if (worker.child.exitCode !== null) throw new Error(`worker ${worker.id} exited: ${worker.output.join("").slice(-1500)}`);
    if (Date.now() > deadline) throw new Error(`worker ${worker.id} not ready: ${worker.output.join("").slice(-1500)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** SIGKILL, as a crash or an OOM kill would; resolves once it is gone. */
export async function killWorker(worker: WorkerProcess): Promise<void> {
  if (worker.child.exitCode !== null || worker.child.signalCode !== null) return;
  const exited = new Promise((r) => worker.child.once("exit", r));
  worker.child.kill("SIGKILL");
  await exited;
}

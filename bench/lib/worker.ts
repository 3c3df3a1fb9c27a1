import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import path from "node:path";

// What the pipeline benchmarks share: a free port, and a real worker process (with the
// gpu-runtime it supervises) started and waited for until it is ready.

export const ROOT = path.resolve(__dirname, "..", "..");

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Polls `check` (its errors count as "not yet") until it gives a value. */
export async function until<T>(check: () => Promise<T | null | false>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => null);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/** `node --import tsx workers/main.ts` with this environment, once /healthz/ready answers 200. */
export async function startWorker(env: Record<string, string>, timeoutMs = 300_000): Promise<ChildProcess> {
  const healthPort = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", "workers/main.ts"], {
    cwd: ROOT,
    env: { ...process.env, LEITAI_WORKER_HEALTH_PORT: String(healthPort), ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let errors = "";
  child.stderr!.on("data", (d) => (errors = (errors + String(d)).slice(-2000)));
  await until(async () => {
    if (child.exitCode !== null) throw new Error(`the worker exited: ${errors}`);
    return (await fetch(`http://127.0.0.1:${healthPort}/healthz/ready`)).status === 200;
  }, timeoutMs, `the worker to be ready (${errors.slice(-300)})`);
  return child;
}

/**
 * Fast path: worker threads for the parallel reads and bootstraps (parallel-*.ts). With a
 * second core they take part of "parse s" and "compute s" of bench/ratings-bench.ts
 * (bench/results/ratings-*.json, ratings-style-*.json); every parallel path gives the
 * single-threaded result bit for bit (test/unit/ratings/parallel-*.test.ts, style-control.test.ts).
 */
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";

/** Where rating work may run besides the calling thread. */
export interface ThreadOptions {
  /** Script each worker runs; it must call serveRatingsWorker() before anything else. */
  workerScript: string;
  /** Threads to use, the calling one included (default: up to 2, one per CPU). */
  threads?: number;
}

export function threadCount(options: ThreadOptions): number {
  return options.threads ?? Math.min(2, availableParallelism());
}

/**
 * Starts a worker on `script` and resolves with its first message, or with `onFailure(error)`
 * when it dies first. Never rejects, so a result nobody awaits any more cannot reject unhandled.
 */
export function startWorker<Reply>(script: string, data: unknown, onFailure: (error: unknown) => Reply): { worker: Worker; reply: Promise<Reply> } {
  // Run from TypeScript source, a worker does not inherit the parent's loader: register it first.
  const worker = script.endsWith(".ts")
    ? new Worker(`require(${JSON.stringify(createRequire(script).resolve("tsx/cjs"))}); require(${JSON.stringify(script)});`, { eval: true, workerData: data })
    : new Worker(script, { workerData: data });
  const reply = new Promise<Reply>((resolve) => {
    worker.once("message", (message: Reply) => resolve(message));
    worker.once("error", (error) => resolve(onFailure(error)));
    worker.once("exit", (code) => resolve(onFailure(new Error(`ratings worker exited (code ${code}) without a result`))));
  });
  return { worker, reply };
}

/** Work shares of the calling thread to one worker's: a worker first spends ~50 ms starting. */
const CALLER_SHARE = 1.2;

/** Cut points 0 = c0 ≤ c1 ≤ … ≤ c[threads] = total: part k is [c[k], c[k+1]), part 0 the caller's. */
export function splitWork(total: number, threads: number): number[] {
  const shares = CALLER_SHARE + threads - 1;
  return Array.from({ length: threads + 1 }, (_, k) => (k === 0 ? 0 : Math.floor((total * (CALLER_SHARE + k - 1)) / shares)));
}

/** A worker's reply: its part of the work, or why it failed. */
export type PartReply<Part> = ({ ok: true } & Part) | { ok: false; message: string };

/**
 * Runs the caller's own part while the workers run theirs, then hands each worker's part to
 * `take` in the workers' order. On any failure every worker is stopped and the error thrown.
 */
export async function withWorkers<Part>(workers: readonly { worker: Worker; reply: Promise<PartReply<Part>> }[], own: () => void, take: (part: Part, k: number) => void): Promise<void> {
  const stop = () => workers.forEach(({ worker }) => void worker.terminate());
  try {
    own();
  } catch (error) {
    stop();
    throw error;
  }
  for (const [k, { reply }] of workers.entries()) {
    const part = await reply;
    if (!part.ok) {
      stop();
      throw new Error(part.message);
    }
    take(part, k);
  }
}

/** A typed array on shared memory (a worker thread sees it without a copy). */
export function shared<T>(Kind: { new (buffer: SharedArrayBuffer): T; BYTES_PER_ELEMENT: number }, length: number): T {
  return new Kind(new SharedArrayBuffer(Math.max(1, length) * Kind.BYTES_PER_ELEMENT));
}

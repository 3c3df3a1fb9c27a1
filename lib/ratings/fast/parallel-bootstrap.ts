/**
 * Fast path: the plain bootstrap's rounds split over threads (each round has its own seed).
 * Part of "compute s" of bench/ratings-bench.ts (bench/results/ratings-*.json) on two cores;
 * the same rows bit for bit as core/bootstrap.ts in test/unit/ratings/parallel-bootstrap.test.ts.
 */
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import { bootstrap, bootstrapResult, bootstrapRounds, type BootstrapOptions, type BootstrapResult } from "../core/bootstrap";
import { fitBradleyTerry } from "../core/bradley-terry";
import { splitWork, startWorker, threadCount, withWorkers, type PartReply, type ThreadOptions } from "./threads";
import type { Anchor, PairCounts } from "../types";

/**
 * Below this much work (rounds × models²) a worker's start-up and cold code cost more than
 * it saves: 100 rounds over 100 models take ≈ 0.1 s on one thread, and handing half of them
 * to a worker made the whole CLI 6 % slower (paired runs, 2-core VM).
 */
export const PARALLEL_MIN_BOOTSTRAP_WORK = 2_500_000;

const TAG = "leitai-bootstrap-rounds";

interface RoundsRequest {
  tag: typeof TAG;
  counts: PairCounts;
  theta: Float64Array;
  seed: number;
  anchor?: Anchor;
  from: number;
  to: number;
}

type RoundsReply = PartReply<{ ratings: ArrayBuffer }>;

/**
 * bootstrap() with its rounds split over threads. Every round draws from its own seed,
 * so the result is bit for bit the single-threaded one.
 */
export async function bootstrapParallel(counts: PairCounts, options: BootstrapOptions, parallel: ThreadOptions): Promise<BootstrapResult> {
  const { rounds = 100, seed = 42, anchor } = options;
  const m = counts.models.length;
  const threads = Math.min(threadCount(parallel), rounds);
  if (threads < 2 || rounds * m * m < PARALLEL_MIN_BOOTSTRAP_WORK) return bootstrap(counts, options);
  const fullFit = options.fullFit ?? fitBradleyTerry(counts);
  const cuts = splitWork(rounds, threads);
  const workers = cuts.slice(1, -1).map((from, k) => {
    const request: RoundsRequest = { tag: TAG, counts, theta: fullFit.theta, seed, anchor, from, to: cuts[k + 2]! };
    return { from, ...startWorker<RoundsReply>(parallel.workerScript, request, failure) };
  });
  const ratings = new Float64Array(rounds * m);
  await withWorkers(
    workers,
    () => ratings.set(bootstrapRounds(counts, { seed, anchor, fullFit }, 0, cuts[1]!)),
    (part, k) => ratings.set(new Float64Array(part.ratings), workers[k]!.from * m),
  );
  return bootstrapResult(ratings, m, rounds);
}

/**
 * bootstrap() on a worker thread, all of it, while the caller does other work (which must
 * return to the event loop now and then, or at the end, for the reply to arrive): the
 * worker's start-up is paid on a core that would otherwise wait. On this thread when there
 * is no second CPU.
 */
export async function bootstrapAside(counts: PairCounts, options: BootstrapOptions, parallel: ThreadOptions): Promise<BootstrapResult> {
  const { rounds = 100, seed = 42, anchor } = options;
  const m = counts.models.length;
  if (threadCount(parallel) < 2) return bootstrap(counts, options);
  const fullFit = options.fullFit ?? fitBradleyTerry(counts);
  const request: RoundsRequest = { tag: TAG, counts, theta: fullFit.theta, seed, anchor, from: 0, to: rounds };
  const worker = startWorker<RoundsReply>(parallel.workerScript, request, failure);
  let ratings: Float64Array | undefined;
  await withWorkers([worker], () => undefined, (part) => (ratings = new Float64Array(part.ratings)));
  return bootstrapResult(ratings!, m, rounds);
}

/** In a worker: runs the bootstrap rounds asked for and returns true; false on any other thread or task. */
export function serveBootstrapWorker(): boolean {
  const request = workerData as Partial<RoundsRequest> | null;
  if (isMainThread || request?.tag !== TAG || !parentPort) return false;
  const { counts, theta, seed, anchor, from, to } = request as RoundsRequest;
  let reply: RoundsReply;
  try {
    // The caller's fit, not a refit here: every round must start from the same bits.
    const fullFit = { models: counts.models, theta, iterations: 0, converged: true };
    const ratings = bootstrapRounds(counts, { seed, anchor, fullFit }, from, to);
    reply = { ok: true, ratings: ratings.buffer as ArrayBuffer };
  } catch (error) {
    reply = failure(error);
  }
  parentPort.postMessage(reply, reply.ok ? [reply.ratings] : []);
  return true;
}

function failure(error: unknown): RoundsReply {
  return { ok: false, message: (error as Error)?.message ?? String(error) };
}

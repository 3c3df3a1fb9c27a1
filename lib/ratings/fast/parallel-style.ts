/**
 * Fast path: the style-controlled rounds shared over threads, and a helper thread that sums
 * half of each style fit's passes. Part of "compute s" of bench/ratings-bench.ts --style-control
 * (bench/results/ratings-style-*.json); bit for bit the one-thread result in
 * test/unit/ratings/style-control.test.ts.
 */
import { isMainThread, parentPort, workerData, type Worker } from "node:worker_threads";
import { fitStyleControl, type StyleData, type StyleFit } from "../core/style-control";
import { endSharedPasses, passShare, serveSharedPasses, type PassScratch, type PassShare } from "./style-passes";
import {
  isExact,
  LINEARISATION_CHECK_ROUNDS,
  planStyleRounds,
  ROUNDS_PER_PASS,
  styleBootstrap,
  styleBootstrapResult,
  StyleRounds,
  type StyleBootstrapOptions,
  type StyleBootstrapResult,
  type StyleRoundPlan,
} from "./style-rounds";
import { shared, startWorker, threadCount, withWorkers, type PartReply, type ThreadOptions } from "./threads";

/** Below this many battles × rounds a worker's start-up costs more than the rounds it takes over. */
export const PARALLEL_MIN_STYLE_WORK = 20_000_000;

const TAG = "leitai-style-rounds";

interface StyleRoundsRequest {
  tag: typeof TAG;
  data: StyleData;
  plan: StyleRoundPlan;
  options: StyleBootstrapOptions;
  /** Shared: rows of every round's ratings. */
  rows: Float64Array;
  /** Shared: next[0] is the first round no thread has taken yet. */
  next: Int32Array;
}

type StyleRoundsReply = PartReply<object>;

/**
 * styleBootstrap() with its rounds shared out over threads: the same result, bit for bit.
 * Only linearised runs split (exact ones are small). The battles, the plan's per-battle terms
 * and the result rows are on shared memory; threads take the next rounds from a shared counter
 * until none are left, so a slow start or a slow core costs no one else time. The first rounds,
 * which carry the linearisation check, stay on this thread, which runs them while the workers start.
 */
export async function styleBootstrapParallel(data: StyleData, fit: StyleFit, options: StyleBootstrapOptions, parallel: ThreadOptions): Promise<StyleBootstrapResult> {
  const m = data.models.length;
  const { rounds } = options;
  const exact = isExact(data, options);
  const threads = Math.min(threadCount(parallel), rounds);
  if (exact || threads < 2 || data.length * rounds < PARALLEL_MIN_STYLE_WORK) return styleBootstrap(data, fit, options);
  const plan = planStyleRounds(data, fit);
  const rows = shared(Float64Array, rounds * m);
  const next = shared(Int32Array, 1);
  const checked = Math.min(LINEARISATION_CHECK_ROUNDS, rounds);
  next[0] = checked;
  const request: StyleRoundsRequest = { tag: TAG, data, plan, options, rows, next };
  const workers = Array.from({ length: threads - 1 }, () => startWorker<StyleRoundsReply>(parallel.workerScript, request, failure));
  const own = new StyleRounds(data, plan, options, rows);
  await withWorkers(
    workers,
    () => {
      for (let round = 0; round < checked; round++) own.run(round, round + 1);
      takeRounds(own, next, rounds);
    },
    () => undefined,
  );
  return styleBootstrapResult(rows.slice(), m, rounds, false, own.linearisationError);
}

/** Runs rounds taken from the shared counter until every round is taken. */
function takeRounds(runner: StyleRounds, next: Int32Array, rounds: number): void {
  for (;;) {
    const from = Atomics.add(next, 0, ROUNDS_PER_PASS);
    if (from >= rounds) return;
    runner.run(from, Math.min(rounds, from + ROUNDS_PER_PASS));
  }
}

const FIT_TAG = "leitai-style-fit";

/** A fit's battles and the shared memory its passes are split in. */
interface SharedFit {
  data: StyleData;
  parts: Float64Array;
  share: PassShare;
}

/**
 * A worker thread that takes half of the style fits' passes (the longest stretch of one
 * thread's work in a rating run): started before the battles are even laid out, so its
 * start-up is paid meanwhile; given each fit by message; a fit it has not picked up yet is
 * done by the caller alone. The passes' sums are the same bits either way (see stylePass).
 */
export class StyleFitHelper {
  /** Resolves true once the helper thread listens for fits (false if it failed to start). */
  readonly ready: Promise<boolean>;

  private constructor(private readonly worker: Worker, reply: Promise<PartReply<object>>) {
    this.ready = reply.then((r) => r.ok);
  }

  /** A helper when there is a second CPU, else null. */
  static start(parallel: ThreadOptions): StyleFitHelper | null {
    if (threadCount(parallel) < 2) return null;
    const { worker, reply } = startWorker<PartReply<object>>(parallel.workerScript, { tag: FIT_TAG }, failure);
    return new StyleFitHelper(worker, reply);
  }

  /** Shared memory for a fit of `data`, handed to the helper; end it with finish(). */
  share(data: StyleData): PassScratch & { share: PassShare } {
    const pass = passShare(data);
    const message: SharedFit = { data, ...pass };
    this.worker.postMessage(message);
    return pass;
  }

  /** The fit is over: the helper leaves it (or skips it, not having started). */
  finish(pass: { share: PassShare }): void {
    endSharedPasses(pass.share);
  }

  /** fitStyleControl (unweighted) with the helper taking part of each pass. */
  fit(data: StyleData, options: { init?: Float64Array } = {}): StyleFit {
    const pass = this.share(data);
    try {
      return fitStyleControl(data, { ...options, pass });
    } finally {
      this.finish(pass);
    }
  }

  close(): void {
    void this.worker.terminate();
  }
}

/** In a worker: runs style-control rounds from the shared counter and returns true; false on any other thread or task. */
export function serveStyleWorker(): boolean {
  if (serveFitHelper()) return true;
  const request = workerData as Partial<StyleRoundsRequest> | null;
  if (isMainThread || request?.tag !== TAG || !parentPort) return false;
  const { data, plan, options, rows, next } = request as StyleRoundsRequest;
  let reply: StyleRoundsReply;
  try {
    takeRounds(new StyleRounds(data, plan, options, rows), next, options.rounds);
    reply = { ok: true };
  } catch (error) {
    reply = failure(error);
  }
  parentPort.postMessage(reply);
  return true;
}

/** In a fit helper: takes its share of each fit sent until the thread is terminated. */
function serveFitHelper(): boolean {
  const request = workerData as { tag?: string } | null;
  if (isMainThread || request?.tag !== FIT_TAG || !parentPort) return false;
  parentPort.on("message", (fit: SharedFit) => serveSharedPasses(fit.data, fit));
  parentPort.postMessage({ ok: true } satisfies StyleRoundsReply); // ready: StyleFitHelper.ready
  return true;
}

function failure(error: unknown): StyleRoundsReply {
  return { ok: false, message: (error as Error)?.message ?? String(error) };
}

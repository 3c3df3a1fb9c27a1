import { isMainThread, parentPort, workerData } from "node:worker_threads";
import { isExact, styleBootstrap, styleBootstrapResult, styleBootstrapRounds, type StyleBootstrapOptions, type StyleBootstrapResult, type StyleData, type StyleFit } from "./style-control";
import { splitWork, startWorker, threadCount, withWorkers, type PartReply, type ThreadOptions } from "./threads";

/**
 * Below this many battles × rounds a worker's start-up, its copy of the battles and its own
 * pass to plan the rounds cost more than the rounds it takes over.
 */
export const PARALLEL_MIN_STYLE_WORK = 20_000_000;

const TAG = "leitai-style-rounds";

interface StyleRoundsRequest {
  tag: typeof TAG;
  data: StyleData;
  fit: StyleFit;
  options: StyleBootstrapOptions;
  from: number;
  to: number;
}

type StyleRoundsReply = PartReply<{ ratings: ArrayBuffer; linearisationError: number }>;

/**
 * styleBootstrap() with its rounds split over threads: the same result, bit for bit. Only
 * linearised runs split (exact ones are small); the first rounds, which carry the
 * linearisation check, stay on this thread.
 */
export async function styleBootstrapParallel(data: StyleData, fit: StyleFit, options: StyleBootstrapOptions, parallel: ThreadOptions): Promise<StyleBootstrapResult> {
  const m = data.models.length;
  const { rounds } = options;
  const exact = isExact(data, options);
  const threads = Math.min(threadCount(parallel), rounds);
  if (exact || threads < 2 || data.length * rounds < PARALLEL_MIN_STYLE_WORK) return styleBootstrap(data, fit, options);
  const cuts = splitWork(rounds, threads);
  const workers = cuts.slice(1, -1).map((from, k) => {
    const request: StyleRoundsRequest = { tag: TAG, data, fit, options, from, to: cuts[k + 2]! };
    return { from, ...startWorker<StyleRoundsReply>(parallel.workerScript, request, failure) };
  });
  const ratings = new Float64Array(rounds * m);
  let linearisationError = 0;
  await withWorkers(
    workers,
    () => {
      const own = styleBootstrapRounds(data, fit, options, 0, cuts[1]!);
      ratings.set(own.ratings);
      linearisationError = own.linearisationError;
    },
    (part, k) => {
      ratings.set(new Float64Array(part.ratings), workers[k]!.from * m);
      linearisationError = Math.max(linearisationError, part.linearisationError);
    },
  );
  return styleBootstrapResult(ratings, m, rounds, false, linearisationError);
}

/** In a worker: runs the style-control rounds asked for and returns true; false on any other thread or task. */
export function serveStyleWorker(): boolean {
  const request = workerData as Partial<StyleRoundsRequest> | null;
  if (isMainThread || request?.tag !== TAG || !parentPort) return false;
  const { data, fit, options, from, to } = request as StyleRoundsRequest;
  let reply: StyleRoundsReply;
  try {
    const part = styleBootstrapRounds(data, fit, options, from, to);
    reply = { ok: true, ratings: part.ratings.buffer as ArrayBuffer, linearisationError: part.linearisationError };
  } catch (error) {
    reply = failure(error);
  }
  parentPort.postMessage(reply, reply.ok ? [reply.ratings] : []);
  return true;
}

function failure(error: unknown): StyleRoundsReply {
  return { ok: false, message: (error as Error)?.message ?? String(error) };
}

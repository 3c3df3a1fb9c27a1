/**
 * Fast path: the passes over the battles of a style-controlled fit (core/style-control.ts,
 * fitStyleControl). Computes the same value, gradient and negated Hessian as core's plain
 * styleSystem, but per run of one pair (a pair's model terms summed in locals), with the
 * feature sums hand-unrolled into registers, one log per 64 battles, and the runs cut into
 * chunks that a second thread can share (the "style fit helper" of fast/parallel-style.ts).
 * Justified by bench/ratings-bench.ts --style-control (bench/results/ratings-style-*.json):
 * the fits are the longest stretch of one thread's work in a style-controlled run. Also the
 * gradient alone (styleGradientPass) for the chord steps of exact bootstrap refits, in a loop of
 * its own. Both pinned to styleSystem in test/unit/ratings/fast-vs-core.test.ts.
 */
import { STYLE_FEATURES } from "../style-counts";
import type { StyleData } from "../core/style-control";
import { shared } from "./threads";

const K = STYLE_FEATURES.length;

/**
 * Up to this many models the battles are grouped by pair through an m × m table of counts
 * (4 MB at 1,024); past it they stay in vote order, which only makes the passes slower.
 */
export const GROUPED_MODELS = 1024;

/**
 * Where each battle goes in StyleData (core/style-control.ts): a stable counting sort by pair
 * (pairs[k] = i·m + j), so the battles of one ordered pair form a run whose model terms a pass
 * sums in locals; vote order when not grouped.
 */
export function pairOrder(pairs: Int32Array, n: number, m: number, grouped = m <= GROUPED_MODELS): Int32Array {
  const dest = new Int32Array(n);
  if (!grouped) {
    for (let k = 0; k < n; k++) dest[k] = k;
    return dest;
  }
  const next = new Int32Array(m * m + 1);
  for (let k = 0; k < n; k++) next[pairs[k]! + 1]++;
  for (let q = 0; q < m * m; q++) next[q + 1] += next[q]!;
  for (let k = 0; k < n; k++) dest[k] = next[pairs[k]!]++;
  return dest;
}

/**
 * The log-likelihood at x (no penalty) into the return value, its gradient into grad and its
 * negated Hessian into hess (all of it, mirrors filled in). The battles' runs are cut into
 * passChunks(d) chunks, each summed into its own part of `parts` and the parts added in chunk
 * order: the same bits whether one thread sums every chunk or two share them (`share`,
 * unweighted passes only).
 */
export function stylePass(data: StyleData, x: Float64Array, weights: Float64Array | undefined, grad: Float64Array, hess: Float64Array, pass: PassScratch): number {
  const m = data.models.length;
  const d = m + K;
  const { parts, share } = pass;
  const chunks = passChunks(d);
  if (share && !weights) {
    share.x.set(x);
    sharePass(share.control, chunks, (chunk) => newtonChunk(data, share.x, undefined, chunk, parts));
  } else {
    for (let chunk = 0; chunk < chunks; chunk++) newtonChunk(data, x, weights, chunk, parts);
  }
  const size = 1 + d + d * d;
  grad.fill(0);
  hess.fill(0);
  let total = 0;
  for (let chunk = 0; chunk < chunks; chunk++) {
    const at = chunk * size;
    total += parts[at]!;
    for (let i = 0; i < d; i++) grad[i] += parts[at + 1 + i]!;
    for (let i = 0; i < d * d; i++) hess[i] += parts[at + 1 + d + i]!;
  }
  for (let k = 0; k < K; k++) {
    // The upper triangle of the feature block and the (feature, model) block from their mirrors.
    for (let l = 0; l < k; l++) hess[(m + l) * d + m + k] = hess[(m + k) * d + m + l]!;
    for (let i = 0; i < m; i++) hess[(m + k) * d + i] = hess[i * d + m + k]!;
  }
  return total;
}

/** Chunks of a Newton pass: a few, for two threads to share; one when d² per chunk gets large. */
export function passChunks(d: number): number {
  return d <= 256 ? 8 : 1;
}

/** Per-chunk sums of one fit's passes, and the thread sharing them (if any). */
export interface PassScratch {
  parts: Float64Array;
  share?: PassShare;
}

/**
 * What a second thread needs to take chunks of a fit's unweighted passes: control words and x
 * on shared memory, the parts too (PassScratch.parts is then shared).
 */
export interface PassShare {
  /** [GENERATION, NEXT, DONE, STOP, FAILED, HELPED (chunks the other thread summed)], see sharePass. */
  control: Int32Array;
  x: Float64Array;
}

export const PASS_GENERATION = 0;
export const PASS_NEXT = 1;
export const PASS_DONE = 2;
export const PASS_STOP = 3;
export const PASS_FAILED = 4;
export const PASS_HELPED = 5;
/** A shared pass that sees no chunk finish for this long gives up on the other thread. */
const PASS_STALL_MS = 60_000;

/** Shared memory for one fit over `data` split with another thread. */
export function passShare(data: StyleData): { parts: Float64Array; share: PassShare } {
  const d = data.models.length + K;
  const control = shared(Int32Array, 6);
  // No pass open: a thread that arrives before the first finds no chunk to take.
  control[PASS_NEXT] = passChunks(d);
  return { parts: shared(Float64Array, passChunks(d) * (1 + d + d * d)), share: { control, x: shared(Float64Array, d) } };
}

/**
 * One pass shared: the next-chunk counter and the done count reset (done first, so no claim of
 * this pass is counted against the last), the generation bumped to wake the other thread, then
 * chunks claimed here until none are left, and a wait until every claimed chunk is done.
 * Chunks can be claimed only while a pass is open (its x written, the counts reset): between
 * passes, and before the first (passShare), the counter is past the last chunk.
 */
function sharePass(control: Int32Array, chunks: number, run: (chunk: number) => void): void {
  Atomics.store(control, PASS_DONE, 0);
  Atomics.store(control, PASS_NEXT, 0);
  Atomics.add(control, PASS_GENERATION, 1);
  Atomics.notify(control, PASS_GENERATION);
  takeChunks(control, chunks, run);
  for (let done = Atomics.load(control, PASS_DONE); done < chunks; done = Atomics.load(control, PASS_DONE)) {
    if (Atomics.wait(control, PASS_DONE, done, PASS_STALL_MS) === "timed-out") throw new Error("style control: the thread sharing the fit stopped answering");
  }
  if (Atomics.load(control, PASS_FAILED)) throw new Error("style control: the thread sharing the fit failed");
}

/** Claims and runs chunks of the current pass until none are left. */
export function takeChunks(control: Int32Array, chunks: number, run: (chunk: number) => void): void {
  for (let chunk = Atomics.add(control, PASS_NEXT, 1); chunk < chunks; chunk = Atomics.add(control, PASS_NEXT, 1)) {
    run(chunk);
    Atomics.add(control, PASS_DONE, 1);
    Atomics.notify(control, PASS_DONE);
  }
}

/**
 * The other thread's side: takes chunks of each pass as the generation moves, until STOP.
 * Returns when the fit is over.
 */
export function serveSharedPasses(data: StyleData, pass: { parts: Float64Array; share: PassShare }): void {
  const { control, x } = pass.share;
  const chunks = passChunks(data.models.length + K);
  let seen = -1;
  for (;;) {
    if (Atomics.load(control, PASS_STOP)) return;
    const generation = Atomics.load(control, PASS_GENERATION);
    if (generation !== seen) {
      seen = generation;
      takeChunks(control, chunks, (chunk) => {
        try {
          newtonChunk(data, x, undefined, chunk, pass.parts);
          Atomics.add(control, PASS_HELPED, 1);
        } catch {
          // Counted done all the same, so the fitting thread stops waiting and reports it.
          Atomics.store(control, PASS_FAILED, 1);
        }
      });
      continue;
    }
    Atomics.wait(control, PASS_GENERATION, seen);
  }
}

/** Ends a shared fit: the other thread leaves serveSharedPasses (at once, or when it arrives). */
export function endSharedPasses(share: PassShare): void {
  Atomics.store(share.control, PASS_STOP, 1);
  Atomics.add(share.control, PASS_GENERATION, 1);
  Atomics.notify(share.control, PASS_GENERATION);
}

/**
 * One chunk of a pass: the log-likelihood, gradient and negated Hessian (model rows and the
 * lower feature block) of runs in the chunk, into its part of `parts` [value, grad, hess]. A
 * battle's terms go to 6 gradient and 22 Hessian entries; per run of one pair the model ones
 * are summed in locals first, and the feature block over the whole chunk.
 */
function newtonChunk(data: StyleData, x: Float64Array, weights: Float64Array | undefined, chunk: number, parts: Float64Array): void {
  const m = data.models.length;
  const d = m + K;
  const { a, b, y, features, runs } = data;
  const size = 1 + d + d * d;
  const out = parts.subarray(chunk * size, (chunk + 1) * size);
  out.fill(0);
  const grad = out.subarray(1, 1 + d);
  const hess = out.subarray(1 + d);
  const runCount = runs.length - 1;
  const chunks = parts.length / size;
  const firstRun = Math.floor((chunk * runCount) / chunks);
  const endRun = Math.floor(((chunk + 1) * runCount) / chunks);
  const b0 = x[m]!, b1 = x[m + 1]!, b2 = x[m + 2]!, b3 = x[m + 3]!;
  let g0 = 0, g1 = 0, g2 = 0, g3 = 0;
  let q00 = 0, q10 = 0, q11 = 0, q20 = 0, q21 = 0, q22 = 0, q30 = 0, q31 = 0, q32 = 0, q33 = 0;
  let total = 0;
  let product = 1;
  let factors = 0;
  for (let p = firstRun; p < endRun; p++) {
    const start = runs[p]!;
    const end = runs[p + 1]!;
    const i = a[start]!;
    const j = b[start]!;
    const gap = x[i]! - x[j]!;
    let sumE = 0, sumH = 0, h0 = 0, h1 = 0, h2 = 0, h3 = 0;
    for (let r = start; r < end; r++) {
      const w = weights ? weights[r]! : 1;
      const o = r * K;
      const f0 = features[o]!, f1 = features[o + 1]!, f2 = features[o + 2]!, f3 = features[o + 3]!;
      const z = gap + f0 * b0 + f1 * b1 + f2 * b2 + f3 * b3;
      // p = σ(z), and y·log σ(z) + (1 − y)·log σ(−z) = y·z − max(z, 0) − log(1 + e^−|z|).
      const ez = Math.exp(-Math.abs(z));
      const pz = z >= 0 ? 1 / (1 + ez) : ez / (1 + ez);
      const yr = y[r]!;
      total += w * (yr * z - Math.max(z, 0));
      if (weights) {
        total -= w * Math.log1p(ez);
      } else {
        // Unweighted: one log per 64 battles, of a product of factors in (1, 2] (no overflow).
        product *= 1 + ez;
        if (++factors === 64) {
          total -= Math.log(product);
          product = 1;
          factors = 0;
        }
      }
      const e = w * (yr - pz);
      const h = w * pz * (1 - pz);
      sumE += e;
      sumH += h;
      g0 += e * f0;
      g1 += e * f1;
      g2 += e * f2;
      g3 += e * f3;
      const hf0 = h * f0, hf1 = h * f1, hf2 = h * f2, hf3 = h * f3;
      h0 += hf0;
      h1 += hf1;
      h2 += hf2;
      h3 += hf3;
      q00 += hf0 * f0;
      q10 += hf1 * f0;
      q11 += hf1 * f1;
      q20 += hf2 * f0;
      q21 += hf2 * f1;
      q22 += hf2 * f2;
      q30 += hf3 * f0;
      q31 += hf3 * f1;
      q32 += hf3 * f2;
      q33 += hf3 * f3;
    }
    grad[i] += sumE;
    grad[j] -= sumE;
    hess[i * d + i] += sumH;
    hess[j * d + j] += sumH;
    hess[i * d + j] -= sumH;
    hess[j * d + i] -= sumH;
    hess[i * d + m] += h0;
    hess[i * d + m + 1] += h1;
    hess[i * d + m + 2] += h2;
    hess[i * d + m + 3] += h3;
    hess[j * d + m] -= h0;
    hess[j * d + m + 1] -= h1;
    hess[j * d + m + 2] -= h2;
    hess[j * d + m + 3] -= h3;
  }
  total -= Math.log(product);
  out[0] = total;
  grad[m] = g0;
  grad[m + 1] = g1;
  grad[m + 2] = g2;
  grad[m + 3] = g3;
  const q = [q00, q10, q11, q20, q21, q22, q30, q31, q32, q33];
  for (let k = 0, at = 0; k < K; k++) for (let l = 0; l <= k; l++, at++) hess[(m + k) * d + m + l] = q[at]!;
}

/**
 * The weighted log-likelihood's gradient alone (no penalty), for the chord steps of a bootstrap
 * refit (fast/style-rounds.ts): the gradient part of stylePass in a loop of its own, in one
 * piece. Sharing stylePass's loop (its 30 running sums) made a chord pass 25–30% slower.
 */
export function styleGradientPass(data: StyleData, x: Float64Array, weights: Float64Array, grad: Float64Array): void {
  const m = data.models.length;
  const { a, b, y, features, runs } = data;
  grad.fill(0);
  const b0 = x[m]!, b1 = x[m + 1]!, b2 = x[m + 2]!, b3 = x[m + 3]!;
  let g0 = 0, g1 = 0, g2 = 0, g3 = 0;
  for (let p = 0; p + 1 < runs.length; p++) {
    const start = runs[p]!;
    const end = runs[p + 1]!;
    const gap = x[a[start]!]! - x[b[start]!]!;
    let sum = 0;
    for (let r = start; r < end; r++) {
      // No skip for weight 0: about a third of the rounds' weights are, in no predictable order.
      const w = weights[r]!;
      const o = r * K;
      const f0 = features[o]!, f1 = features[o + 1]!, f2 = features[o + 2]!, f3 = features[o + 3]!;
      const e = w * (y[r]! - 1 / (1 + Math.exp(-(gap + f0 * b0 + f1 * b1 + f2 * b2 + f3 * b3))));
      sum += e;
      g0 += e * f0;
      g1 += e * f1;
      g2 += e * f2;
      g3 += e * f3;
    }
    grad[a[start]!] += sum;
    grad[b[start]!] -= sum;
  }
  grad[m] = g0;
  grad[m + 1] = g1;
  grad[m + 2] = g2;
  grad[m + 3] = g3;
}

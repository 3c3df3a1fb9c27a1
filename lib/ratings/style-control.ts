import { bootstrapResult, type BootstrapResult } from "./bootstrap";
import { ELO_PER_NAT, shiftRatings } from "./bradley-terry";
import { choleskyFactor, choleskySolve } from "./cholesky";
import { roundSeed, Rng } from "./rng";
import { STYLE_COUNTS, STYLE_FEATURES } from "./style-counts";
import { OUTCOME_A, OUTCOME_B, type Anchor, type VoteTable } from "./types";

/**
 * Style control, as FastChat's compute_style_control: a Bradley–Terry model whose log-odds for
 * "A beats B" also carry four style terms,
 *
 *   logit P(A beats B) = (θA − θB) + Σk βk·fk,   fk = z-score over the battles of (ak − bk) / (ak + bk + 1),
 *
 * a, b each side's answer tokens, markdown headers, list items and bold spans. The ratings then
 * say how models compare at equal length and formatting. Like FastChat: ties count as half a
 * win (log-loss with label ½), and the loss carries an L2 penalty reg/2·(Σ(θ/ln 10)² + Σβ²)
 * with reg = 0.5 (FastChat fits θ in log10 units); with it, the fitted θ average exactly 0.
 * Unlike FastChat's L-BFGS (100 iterations, gtol 1e-6), Newton's method runs to the optimum.
 */
export const STYLE_REG = 0.5;
const REG_THETA = STYLE_REG / (Math.LN10 * Math.LN10);
const K = STYLE_FEATURES.length;

/**
 * Above this much work (battles × rounds) the bootstrap rounds are linearised: each round is
 * one Newton step from the full fit with the full fit's Hessian, instead of a refit to the
 * optimum (see styleBootstrap). 10⁷ is 100 rounds over 100,000 battles.
 */
export const EXACT_BOOTSTRAP_WORK = 10_000_000;
/** Linearised rounds summed in one pass over the battles (the pass is bound by memory, not arithmetic). */
export const ROUNDS_PER_PASS = 2;
/** Rounds refitted exactly in a linearised bootstrap, to measure what the linearisation costs. */
export const LINEARISATION_CHECK_ROUNDS = 1;

/**
 * The battles of one fit: local model indices, labels (1, ½, 0 for A) and standardised
 * features, grouped into runs of one ordered pair (a, b), so the passes over them add a
 * pair's terms up in locals and touch the pair's model entries once per run. The arrays sit
 * on shared memory: a worker thread given them reads the same battles without a copy.
 */
export interface StyleData {
  models: string[];
  a: Int32Array;
  b: Int32Array;
  y: Float64Array;
  /** features[r * 4 + k]. */
  features: Float64Array;
  /** Battles runs[p] … runs[p + 1] − 1 are all a[runs[p]] against b[runs[p]]; the last entry is length. */
  runs: Int32Array;
  length: number;
}

export interface StyleFit {
  models: string[];
  /** Natural-log strengths, mean 0. */
  theta: Float64Array;
  /** Style coefficients β (log-odds per standard deviation of each feature), STYLE_FEATURES order. */
  beta: Float64Array;
  iterations: number;
  converged: boolean;
  /**
   * When converged: the Cholesky factor of the negated Hessian (models then features, row-major)
   * at the last point the fit evaluated, one step (below tolerance) from the optimum. The
   * bootstrap reuses it rather than pass over the battles again.
   */
  factor?: Float64Array;
}

/**
 * Up to this many models the battles are grouped by pair through an m × m table of counts
 * (4 MB at 1,024); past it they stay in vote order, which only makes the passes slower.
 */
export const GROUPED_MODELS = 1024;

/** A typed array on shared memory (a worker thread sees it without a copy). */
export function shared<T>(Kind: { new (buffer: SharedArrayBuffer): T; BYTES_PER_ELEMENT: number }, length: number): T {
  return new Kind(new SharedArrayBuffer(Math.max(1, length) * Kind.BYTES_PER_ELEMENT));
}

/**
 * The battles `rows` of `table` whose two models are both in `models` (sorted names, the fit's
 * index order), with FastChat's features. A feature constant over these battles has no
 * standard deviation (FastChat would divide by zero): it is set to 0 and its β stays 0.
 * The fit does not depend on battle order; grouping by pair only changes the rounding
 * (`grouped: false` keeps vote order whatever the number of models: tests compare the two).
 */
export function styleData(table: VoteTable, models: readonly string[], rows?: Int32Array, options: { grouped?: boolean } = {}): StyleData {
  const style = table.style;
  if (!style) throw new Error("style control needs the votes' style counts");
  const m = models.length;
  const local = new Int32Array(table.models.length).fill(-1);
  const index = new Map(models.map((name, i) => [name, i]));
  table.models.forEach((name, id) => (local[id] = index.get(name) ?? -1));
  const total = rows ? rows.length : table.length;
  const { modelA, modelB } = table;
  // The kept battles in vote order with their pair's index in an m × m table.
  const pairs = new Int32Array(total);
  const kept = new Int32Array(total);
  const grouped = options.grouped ?? m <= GROUPED_MODELS;
  let n = 0;
  for (let k = 0; k < total; k++) {
    const v = rows ? rows[k]! : k;
    const i = local[modelA[v]!]!;
    const j = local[modelB[v]!]!;
    if (i < 0 || j < 0) continue;
    pairs[n] = i * m + j;
    kept[n++] = v;
  }
  // A counting sort by pair, stable: where each battle goes (vote order when not grouped).
  const dest = new Int32Array(n);
  if (grouped) {
    const next = new Int32Array(m * m + 1);
    for (let k = 0; k < n; k++) next[pairs[k]! + 1]++;
    for (let q = 0; q < m * m; q++) next[q + 1] += next[q]!;
    for (let k = 0; k < n; k++) dest[k] = next[pairs[k]!]++;
  } else {
    for (let k = 0; k < n; k++) dest[k] = k;
  }
  // Locals: under a CommonJS transform each read of an imported binding is a property lookup.
  const counts = STYLE_COUNTS;
  const winA = OUTCOME_A;
  const winB = OUTCOME_B;
  const outcomes = table.outcome;
  const a = shared(Int32Array, n);
  const b = shared(Int32Array, n);
  const y = shared(Float64Array, n);
  const features = shared(Float64Array, n * K);
  // In vote order (the votes' columns read in sequence), each battle written to its place,
  // with the sums that standardise the features.
  const sum = new Float64Array(K);
  const squares = new Float64Array(K);
  const low = new Float64Array(K).fill(Infinity);
  const high = new Float64Array(K).fill(-Infinity);
  for (let k = 0; k < n; k++) {
    const v = kept[k]!;
    const r = dest[k]!;
    const pair = pairs[k]!;
    const i = Math.floor(pair / m);
    a[r] = i;
    b[r] = pair - i * m;
    const outcome = outcomes[v]!;
    y[r] = outcome === winA ? 1 : outcome === winB ? 0 : 0.5;
    const at = v * counts;
    for (let f = 0; f < K; f++) {
      const countA = style[at + f]!;
      const countB = style[at + K + f]!;
      const feature = (countA - countB) / (countA + countB + 1);
      features[r * K + f] = feature;
      sum[f] += feature;
      squares[f] += feature * feature;
      low[f] = Math.min(low[f]!, feature);
      high[f] = Math.max(high[f]!, feature);
    }
  }
  standardise(features, n, { sum, squares, constant: low.map((x, f) => (x === high[f] ? 1 : 0)) });
  const starts: number[] = [];
  for (let r = 0; r < n; r++) if (r === 0 || a[r] !== a[r - 1] || b[r] !== b[r - 1]) starts.push(r);
  starts.push(n);
  const runs = shared(Int32Array, starts.length);
  runs.set(starts);
  return { models: [...models], a, b, y, features, runs, length: n };
}

/**
 * Each feature column to mean 0 and (population) standard deviation 1, as numpy's mean and std,
 * from the columns' sums and sums of squares (features lie in [−1, 1]: no cancellation to
 * fear). A constant column (as its least and greatest value say, exactly) becomes 0.
 */
function standardise(features: Float64Array, n: number, columns: { sum: Float64Array; squares: Float64Array; constant: Float64Array }): void {
  const { sum, squares, constant } = columns;
  const mean = new Float64Array(K);
  const scale = new Float64Array(K);
  for (let f = 0; f < K; f++) {
    mean[f] = sum[f]! / (n || 1);
    const sd = Math.sqrt(Math.max(0, squares[f]! / (n || 1) - mean[f]! * mean[f]!));
    // A constant feature's 0 keeps its β at 0.
    scale[f] = constant[f] || sd === 0 ? 0 : 1 / sd;
  }
  const m0 = mean[0]!, m1 = mean[1]!, m2 = mean[2]!, m3 = mean[3]!;
  const s0 = scale[0]!, s1 = scale[1]!, s2 = scale[2]!, s3 = scale[3]!;
  for (let o = 0; o < n * K; o += K) {
    features[o] = (features[o]! - m0) * s0;
    features[o + 1] = (features[o + 1]! - m1) * s1;
    features[o + 2] = (features[o + 2]! - m2) * s2;
    features[o + 3] = (features[o + 3]! - m3) * s3;
  }
}

/**
 * Maximum of FastChat's penalised likelihood by Newton's method with a backtracking line
 * search; `weights` (bootstrap counts per battle) default to 1, `init` to all zeros, `pass`
 * (a second thread's share of the unweighted passes) to none. Each
 * trial point's pass over the battles also yields its gradient and Hessian, so an accepted
 * step costs one pass. Once a Newton step moves no parameter by `tolerance` (nats) it is taken
 * without a pass to check it: convergence is quadratic there, each step about 0.4 × the
 * previous one squared on the benchmark's million battles (0.26, 0.025, 2.5·10⁻⁴, 2.4·10⁻⁸),
 * so the error left is of order tolerance²: ≈ 10⁻⁶ nats by default, 10⁻⁴ rating points.
 */
export function fitStyleControl(data: StyleData, options: { weights?: Float64Array; init?: Float64Array; tolerance?: number; pass?: PassScratch } = {}): StyleFit {
  const { weights, tolerance = 1e-3 } = options;
  const m = data.models.length;
  const d = m + K;
  const pass = options.pass ?? { parts: new Float64Array(passChunks(d) * (1 + d + d * d)) };
  let x = options.init ? Float64Array.from(options.init) : new Float64Array(d);
  let grad = new Float64Array(d);
  let hess = new Float64Array(d * d);
  let trial = new Float64Array(d);
  let trialGrad = new Float64Array(d);
  let trialHess = new Float64Array(d * d);
  const step = new Float64Array(d);
  let objective = newtonSystem(data, x, weights, grad, hess, pass);
  let iterations = 0;
  while (iterations < 100) {
    iterations++;
    choleskyFactor(hess, d);
    choleskySolve(hess, grad, step, d);
    let largest = 0;
    for (let i = 0; i < d; i++) largest = Math.max(largest, Math.abs(step[i]!));
    if (largest < tolerance) {
      for (let i = 0; i < d; i++) x[i] += step[i]!;
      return { ...unpack(data.models, x, iterations, true), factor: hess };
    }
    let t = 1;
    let value = -Infinity;
    for (let tries = 0; tries < 30; tries++) {
      for (let i = 0; i < d; i++) trial[i] = x[i]! + t * step[i]!;
      value = newtonSystem(data, trial, weights, trialGrad, trialHess, pass);
      if (value >= objective - 1e-12 * Math.abs(objective)) break;
      t /= 2;
    }
    [x, trial] = [trial, x];
    [grad, trialGrad] = [trialGrad, grad];
    [hess, trialHess] = [trialHess, hess];
    objective = value;
  }
  return unpack(data.models, x, iterations, false);
}

function unpack(models: string[], x: Float64Array, iterations: number, converged: boolean): StyleFit {
  const m = models.length;
  const theta = x.slice(0, m);
  // The penalty already makes the mean 0 at the optimum; this only removes rounding.
  let mean = 0;
  for (let i = 0; i < m; i++) mean += theta[i]!;
  mean /= m || 1;
  for (let i = 0; i < m; i++) theta[i] -= mean;
  return { models, theta, beta: x.slice(m), iterations, converged };
}

function penalty(x: Float64Array, m: number): number {
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += (i < m ? REG_THETA : STYLE_REG) * x[i]! * x[i]!;
  return 0.5 * sum;
}

/**
 * Gradient and negated Hessian of the penalised log-likelihood at x; returns its value. The
 * battles' runs are cut into passChunks(d) chunks, each summed into its own part of `parts`
 * and the parts added in chunk order: the same bits whether one thread sums every chunk or
 * two share them (`share`, unweighted passes only: see parallel-style.ts).
 */
function newtonSystem(data: StyleData, x: Float64Array, weights: Float64Array | undefined, grad: Float64Array, hess: Float64Array, pass: PassScratch): number {
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
  for (let i = 0; i < d; i++) {
    const reg = i < m ? REG_THETA : STYLE_REG;
    grad[i] -= reg * x[i]!;
    hess[i * d + i] += reg;
  }
  return total - penalty(x, m);
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

export interface StyleBootstrapOptions {
  rounds: number;
  seed: number;
  anchor?: Anchor;
  /** Refit every round to the optimum whatever the size (tests compare the two ways). */
  exact?: boolean;
}

export interface StyleBootstrapResult extends BootstrapResult {
  /** "exact": every round refitted to the optimum; "linearised": one Newton step per round. */
  method: "exact" | "linearised";
  /** Linearised only: largest gap (rating points) between linearised and exact ratings over the checked rounds. */
  linearisationError?: number;
}

/**
 * Bootstrap intervals as FastChat's compute_bootstrap_style_control: each round redraws the
 * battles with replacement (Multinomial(n, uniform) counts, see UniformRedraw), and the round's
 * ratings are the fit on the redrawn battles.
 *
 * Rounds start at the full fit. On small data they are refitted to the optimum (chord steps
 * with the full fit's Hessian, then Newton if those stall). Past EXACT_BOOTSTRAP_WORK a round
 * is one Newton step, x̂ + H⁻¹·g(x̂) with the round's gradient: a sum over the battles with no
 * exp (counts drawn in one pass, two rounds summed in the next), ≈ 10 ms a round on a million
 * battles. Its error is
 * second order in the round's deviation (≈ 1/√battles per model), far below the intervals'
 * Monte Carlo noise there; the result says how far it is, measured on the first
 * LINEARISATION_CHECK_ROUNDS rounds refitted exactly.
 */
export function styleBootstrap(data: StyleData, fit: StyleFit, options: StyleBootstrapOptions): StyleBootstrapResult {
  const m = data.models.length;
  const total = options.rounds;
  const rows = new Float64Array(total * m);
  const rounds = new StyleRounds(data, planStyleRounds(data, fit), options, rows);
  for (let round = 0; round < total; round += rounds.step(round)) rounds.run(round, Math.min(total, round + rounds.step(round)));
  return styleBootstrapResult(rows, m, total, isExact(data, options), rounds.linearisationError);
}

/** Whether styleBootstrap refits every round (small data, or asked to). */
export function isExact(data: StyleData, options: StyleBootstrapOptions): boolean {
  return options.exact === true || data.length * options.rounds <= EXACT_BOOTSTRAP_WORK;
}

export function styleBootstrapResult(ratings: Float64Array, m: number, rounds: number, exact: boolean, linearisationError: number): StyleBootstrapResult {
  const result = bootstrapResult(ratings, m, rounds);
  return exact ? { ...result, method: "exact" } : { ...result, method: "linearised", linearisationError };
}

/**
 * Runs bootstrap rounds into `rows` (round r's ratings at r·m): on one thread, or on several
 * taking turns over the same rows (shared memory), as each round depends on its seed alone.
 */
export class StyleRounds {
  /** Largest gap (rating points) between linearised and exact ratings over the checked rounds run here. */
  linearisationError = 0;
  private readonly exact: boolean;
  private readonly redraw: UniformRedraw;
  private readonly counts: readonly [Uint8Array, Uint8Array];
  private readonly grads: readonly [Float64Array, Float64Array];
  private weights: Float64Array | null = null;

  constructor(
    private readonly data: StyleData,
    private readonly plan: StyleRoundPlan,
    private readonly options: StyleBootstrapOptions,
    private readonly rows: Float64Array,
  ) {
    this.exact = isExact(data, options);
    this.redraw = new UniformRedraw(data.length);
    this.counts = [new Uint8Array(data.length), new Uint8Array(data.length)];
    this.grads = [new Float64Array(plan.x.length), new Float64Array(plan.x.length)];
  }

  /** Rounds run together from `round`: checked (refitted) ones one at a time, linearised ones ROUNDS_PER_PASS at a time. */
  step(round: number): number {
    return this.refitted(round) ? 1 : ROUNDS_PER_PASS;
  }

  private refitted(round: number): boolean {
    return this.exact || round < LINEARISATION_CHECK_ROUNDS;
  }

  /** Rounds [from, to), to − from ≤ step(from). */
  run(from: number, to: number): void {
    const { data, plan, redraw, counts, grads } = this;
    const m = data.models.length;
    const rng = (round: number) => new Rng(roundSeed(this.options.seed, round));
    const write = (round: number, x: Float64Array) => writeRound(this.rows.subarray(round * m, (round + 1) * m), x, data.models, this.options.anchor);
    if (this.refitted(from)) {
      const extra = redrawCounts(redraw, rng(from), counts[0]);
      roundGradients(data, plan, [counts[0], counts[0]], [extra, extra], grads);
      const weights = (this.weights ??= new Float64Array(data.length));
      for (let r = 0; r < data.length; r++) weights[r] = counts[0][r]!;
      for (const r of extra) weights[r]!++;
      const x = linearStep(plan, grads[0]);
      const optimum = refit(plan, data, weights, x);
      if (!this.exact) this.linearisationError = Math.max(this.linearisationError, largestGap(x, optimum, m) * ELO_PER_NAT);
      write(from, this.exact ? optimum : x);
      return;
    }
    const two = to - from === 2;
    const extra = [redrawCounts(redraw, rng(from), counts[0]), two ? redrawCounts(redraw, rng(from + 1), counts[1]) : []] as const;
    roundGradients(data, plan, two ? counts : [counts[0], counts[0]], extra, grads);
    write(from, linearStep(plan, grads[0]));
    if (two) write(from + 1, linearStep(plan, grads[1]));
  }
}

/**
 * Multinomial(n, 1/n for each of n battles) draws, exact, in one sequential pass: every battle
 * gets an independent Poisson(μ) count, μ = 1 − 4/√n, so the total S falls short of n with
 * near certainty; given S the counts are Multinomial(S, uniform), a draw with S > n is rejected
 * (which depends on S alone), and the n − S items left go to uniformly drawn battles: the sum is
 * Multinomial(n, uniform). A Poisson count is the inverse CDF of a 53-bit uniform u, read from
 * a guide table by u's top 12 bits; only the few slots a CDF step cuts need u's other 41.
 */
const GUIDE_BITS = 12;
const GUIDE_SLOTS = 1 << GUIDE_BITS;

export class UniformRedraw {
  /** cdf[k] = P(count ≤ k), ending where the tail is below 2⁻⁵⁴, then +∞ (at most 64 steps: a count fits a byte). */
  readonly cdf: Float64Array;
  /**
   * Guide table (Chen & Asau): guide[j] is the count of every u in [j/G, (j+1)/G), or −1 for
   * the few slots a CDF step cuts, which search cdf: one load per battle, no unpredictable branch.
   */
  readonly guide = new Int8Array(GUIDE_SLOTS);
  /** Scratch: random words a block at a time (Rng.fillWords), 12 bits for each of two battles per word. */
  readonly words = new Int32Array(2048);

  constructor(readonly n: number) {
    const mean = Math.max(0, 1 - 4 / Math.sqrt(Math.max(n, 1)));
    const cdf: number[] = [];
    let pmf = Math.exp(-mean);
    let total = 0;
    for (let k = 0; 1 - total > 2 ** -54 && k < 64; k++) {
      total += pmf;
      cdf.push(total);
      pmf *= mean / (k + 1);
    }
    cdf.push(Infinity);
    this.cdf = Float64Array.from(cdf);
    for (let j = 0, k = 0; j < GUIDE_SLOTS; j++) {
      while (this.cdf[k]! <= j / GUIDE_SLOTS) k++;
      this.guide[j] = this.cdf[k]! >= (j + 1) / GUIDE_SLOTS ? k : -1;
    }
  }
}

/**
 * One round's Multinomial(n, uniform) counts: counts[r] the Poisson part (a redraw while it
 * overshoots n), and the battles that the n − S items left went to (one entry per item), so
 * that counts plus those entries sum to n. A battle's top 12 bits are 12 bits of a 32-bit
 * xoshiro word (two battles per word, disjoint bits); a cut slot draws 41 more for its u.
 */
export function redrawCounts(redraw: UniformRedraw, rng: Rng, counts: Uint8Array): number[] {
  const n = redraw.n;
  let placed = poissonCounts(redraw, rng, counts);
  // The rejected draw (about once in 30,000 rounds).
  while (placed > n) placed = poissonCounts(redraw, rng, counts);
  const extra: number[] = [];
  for (; placed < n; placed++) extra.push(Math.floor(rng.nextDouble() * n));
  return extra;
}

/** counts[r] = an independent Poisson(μ) count per battle; returns their sum. */
function poissonCounts(redraw: UniformRedraw, rng: Rng, counts: Uint8Array): number {
  const { n, cdf, guide, words } = redraw;
  const slots = GUIDE_SLOTS - 1;
  let placed = 0;
  // Words a block at a time, small enough to stay in the first-level cache.
  for (let start = 0; start < n; start += 2 * words.length) {
    const pairs = Math.min(words.length, (n - start) >> 1);
    rng.fillWords(words, Math.min(words.length, (n - start + 1) >> 1));
    for (let s = 0; s < pairs; s++) {
      const word = words[s]!;
      let first = guide[word >>> 20]!;
      let second = guide[(word >>> 4) & slots]!;
      if ((first | second) < 0) {
        if (first < 0) first = cutSlotCount(cdf, word >>> 20, rng);
        if (second < 0) second = cutSlotCount(cdf, (word >>> 4) & slots, rng);
      }
      counts[start + 2 * s] = first;
      counts[start + 2 * s + 1] = second;
      placed += first + second;
    }
    if (start + 2 * pairs < n && pairs < words.length) {
      // An odd n: the last word serves one battle.
      const word = words[pairs]!;
      let last = guide[word >>> 20]!;
      if (last < 0) last = cutSlotCount(cdf, word >>> 20, rng);
      counts[n - 1] = last;
      placed += last;
    }
  }
  return placed;
}

/** The count of a u in a slot a CDF step cuts: u on the 53-bit grid inside the slot, as a whole 53-bit uniform would fall there. */
function cutSlotCount(cdf: Float64Array, slot: number, rng: Rng): number {
  const u = slot / GUIDE_SLOTS + ((rng.nextU32() >>> 23) * 4294967296 + rng.nextU32()) / 9007199254740992;
  let count = 0;
  while (u >= cdf[count]!) count++;
  return count;
}

/**
 * Two rounds' gradients at the full fit, g = Σ count·(residual, residual·features) − penalty',
 * from their counts (redrawCounts: the Poisson part, and the battles given one more each).
 */
function roundGradients(data: StyleData, plan: StyleRoundPlan, counts: readonly [Uint8Array, Uint8Array], extra: readonly [number[], number[]], grads: readonly [Float64Array, Float64Array]): void {
  const { a, b } = data;
  const { terms, m, x } = plan;
  const sums = sumCounted(data, terms, counts[0], counts[1], grads[0], grads[1]);
  for (let q = 0; q < 2; q++) {
    const grad = grads[q]!;
    for (const r of extra[q]!) {
      const o = r * TERMS;
      grad[a[r]!] += terms[o]!;
      grad[b[r]!] -= terms[o]!;
      for (let k = 0; k < K; k++) sums[q * K + k] += terms[o + 1 + k]!;
    }
    for (let k = 0; k < K; k++) grad[m + k] = sums[q * K + k]!;
    for (let i = 0; i < x.length; i++) grad[i] -= (i < m ? REG_THETA : STYLE_REG) * x[i]!;
  }
}

/**
 * For two count vectors at once: grad[model] = Σ count·residual over its battles (as A minus
 * as B); returns Σ count·residual·features, the first round's four then the second's. Kept
 * apart from the draw of the counts: each loop stays small enough for V8 to keep its sums in
 * registers (together they ran at half the speed).
 */
function sumCounted(data: StyleData, terms: Float64Array, first: Uint8Array, second: Uint8Array, grad: Float64Array, grad2: Float64Array): Float64Array {
  const { a, b, runs } = data;
  grad.fill(0);
  grad2.fill(0);
  let g0 = 0, g1 = 0, g2 = 0, g3 = 0;
  let h0 = 0, h1 = 0, h2 = 0, h3 = 0;
  for (let p = 0; p + 1 < runs.length; p++) {
    const start = runs[p]!;
    const end = runs[p + 1]!;
    let sum = 0;
    let sum2 = 0;
    for (let r = start; r < end; r++) {
      const c = first[r]!;
      const c2 = second[r]!;
      const o = r * TERMS;
      const e = terms[o]!, t0 = terms[o + 1]!, t1 = terms[o + 2]!, t2 = terms[o + 3]!, t3 = terms[o + 4]!;
      sum += c * e;
      g0 += c * t0;
      g1 += c * t1;
      g2 += c * t2;
      g3 += c * t3;
      sum2 += c2 * e;
      h0 += c2 * t0;
      h1 += c2 * t1;
      h2 += c2 * t2;
      h3 += c2 * t3;
    }
    grad[a[start]!] += sum;
    grad[b[start]!] -= sum;
    grad2[a[start]!] += sum2;
    grad2[b[start]!] -= sum2;
  }
  return Float64Array.of(g0, g1, g2, g3, h0, h1, h2, h3);
}

/** Per battle in a round plan: the residual y − p̂, then residual·feature for each feature. */
const TERMS = 1 + K;

/**
 * What every round reuses: the full fit x̂, its Hessian's Cholesky factor, and per battle the
 * residual and residual·features at x̂ (on shared memory, for the worker threads).
 */
export interface StyleRoundPlan {
  x: Float64Array;
  factor: Float64Array;
  m: number;
  /** terms[r * TERMS + 0] = y − p̂, terms[r * TERMS + 1 + k] = (y − p̂)·fk. */
  terms: Float64Array;
}

export function planStyleRounds(data: StyleData, fit: StyleFit): StyleRoundPlan {
  const m = data.models.length;
  const d = m + K;
  const x = new Float64Array(d);
  x.set(fit.theta);
  x.set(fit.beta, m);
  let factor = fit.factor;
  if (!factor) {
    factor = new Float64Array(d * d);
    newtonSystem(data, x, undefined, new Float64Array(d), factor, { parts: new Float64Array(passChunks(d) * (1 + d + d * d)) });
    choleskyFactor(factor, d);
  }
  const terms = shared(Float64Array, data.length * TERMS);
  const { a, b, y, features } = data;
  const b0 = x[m]!, b1 = x[m + 1]!, b2 = x[m + 2]!, b3 = x[m + 3]!;
  for (let r = 0; r < data.length; r++) {
    const o = r * K;
    const f0 = features[o]!, f1 = features[o + 1]!, f2 = features[o + 2]!, f3 = features[o + 3]!;
    const z = x[a[r]!]! - x[b[r]!]! + f0 * b0 + f1 * b1 + f2 * b2 + f3 * b3;
    const e = y[r]! - 1 / (1 + Math.exp(-z));
    const t = r * TERMS;
    terms[t] = e;
    terms[t + 1] = e * f0;
    terms[t + 2] = e * f1;
    terms[t + 3] = e * f2;
    terms[t + 4] = e * f3;
  }
  return { x, factor, m, terms };
}

/** x̂ + H⁻¹·g. */
function linearStep(plan: StyleRoundPlan, grad: Float64Array): Float64Array {
  const d = plan.x.length;
  const step = new Float64Array(d);
  choleskySolve(plan.factor, grad, step, d);
  for (let i = 0; i < d; i++) step[i] += plan.x[i]!;
  return step;
}

/** The round's optimum from `start`: chord steps with the full fit's factor; Newton when they stall. */
function refit(plan: StyleRoundPlan, data: StyleData, weights: Float64Array, start: Float64Array): Float64Array {
  const d = plan.x.length;
  const x = Float64Array.from(start);
  const grad = new Float64Array(d);
  const step = new Float64Array(d);
  let previous = Infinity;
  let first = Infinity;
  for (let iteration = 0; iteration < 40; iteration++) {
    gradientAt(data, x, weights, grad);
    choleskySolve(plan.factor, grad, step, d);
    let largest = 0;
    for (let i = 0; i < d; i++) largest = Math.max(largest, Math.abs(step[i]!));
    if (largest > 0.5 || largest > 0.5 * previous) break;
    for (let i = 0; i < d; i++) x[i] += step[i]!;
    if (iteration === 0) first = largest;
    // Each step is ≈ 0.03 × the previous on a million battles: after one below 1/500 of the
    // first, the distance left is 10⁻⁴ of the linearised round's; 1e-7 nats ≈ 0.00004 points.
    if (largest < 1e-7 || largest < first / 500) return x;
    previous = largest;
  }
  const m = data.models.length;
  const fit = fitStyleControl(data, { weights, init: x, tolerance: 1e-7 });
  const out = new Float64Array(d);
  out.set(fit.theta);
  out.set(fit.beta, m);
  return out;
}

function gradientAt(data: StyleData, x: Float64Array, weights: Float64Array, grad: Float64Array): void {
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
  for (let i = 0; i < grad.length; i++) grad[i] -= (i < m ? REG_THETA : STYLE_REG) * x[i]!;
}

/** Largest |x − y| over the first m entries (the ratings), centred as the ratings are. */
function largestGap(x: Float64Array, y: Float64Array, m: number): number {
  let meanX = 0;
  let meanY = 0;
  for (let i = 0; i < m; i++) {
    meanX += x[i]!;
    meanY += y[i]!;
  }
  let gap = 0;
  for (let i = 0; i < m; i++) gap = Math.max(gap, Math.abs(x[i]! - meanX / m - (y[i]! - meanY / m)));
  return gap;
}

/** The fit's ratings on the Elo scale: mean 1000, or shifted so the anchor model sits at its rating. */
export function styleRatings(fit: StyleFit, anchor?: Anchor): Float64Array {
  const row = new Float64Array(fit.models.length);
  writeRound(row, fit.theta, fit.models, anchor);
  return row;
}

/** A round's ratings on the Elo scale, centred and shifted like the full fit's. */
function writeRound(row: Float64Array, x: Float64Array, models: readonly string[], anchor: Anchor | undefined): void {
  const m = row.length;
  let mean = 0;
  for (let i = 0; i < m; i++) mean += x[i]!;
  mean /= m || 1;
  for (let i = 0; i < m; i++) row[i] = (x[i]! - mean) * ELO_PER_NAT;
  shiftRatings(row, models, anchor);
}

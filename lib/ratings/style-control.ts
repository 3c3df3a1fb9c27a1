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
/** Rounds refitted exactly in a linearised bootstrap, to measure what the linearisation costs. */
export const LINEARISATION_CHECK_ROUNDS = 1;

/** The battles of one fit: local model indices, labels (1, ½, 0 for A) and standardised features. */
export interface StyleData {
  models: string[];
  a: Int32Array;
  b: Int32Array;
  y: Float64Array;
  /** features[r * 4 + k]. */
  features: Float64Array;
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
}

/**
 * The battles `rows` of `table` whose two models are both in `models` (sorted names, the fit's
 * index order), with FastChat's features. A feature constant over these battles has no
 * standard deviation (FastChat would divide by zero): it is set to 0 and its β stays 0.
 */
export function styleData(table: VoteTable, models: readonly string[], rows?: Int32Array): StyleData {
  const style = table.style;
  if (!style) throw new Error("style control needs the votes' style counts");
  const local = new Int32Array(table.models.length).fill(-1);
  const index = new Map(models.map((name, i) => [name, i]));
  table.models.forEach((name, id) => (local[id] = index.get(name) ?? -1));
  const total = rows ? rows.length : table.length;
  // Locals: under a CommonJS transform each read of an imported binding is a property lookup.
  const counts = STYLE_COUNTS;
  const winA = OUTCOME_A;
  const winB = OUTCOME_B;
  const { modelA, modelB, outcome: outcomes } = table;
  const a = new Int32Array(total);
  const b = new Int32Array(total);
  const y = new Float64Array(total);
  const features = new Float64Array(total * K);
  let n = 0;
  for (let k = 0; k < total; k++) {
    const v = rows ? rows[k]! : k;
    const i = local[modelA[v]!]!;
    const j = local[modelB[v]!]!;
    if (i < 0 || j < 0) continue;
    a[n] = i;
    b[n] = j;
    const outcome = outcomes[v]!;
    y[n] = outcome === winA ? 1 : outcome === winB ? 0 : 0.5;
    const at = v * counts;
    for (let f = 0; f < K; f++) {
      const countA = style[at + f]!;
      const countB = style[at + K + f]!;
      features[n * K + f] = (countA - countB) / (countA + countB + 1);
    }
    n++;
  }
  standardise(features, n);
  return { models: [...models], a: a.subarray(0, n), b: b.subarray(0, n), y: y.subarray(0, n), features: features.subarray(0, n * K), length: n };
}

/** Each feature column to mean 0 and (population) standard deviation 1, as numpy's mean and std. */
function standardise(features: Float64Array, n: number): void {
  for (let f = 0; f < K; f++) {
    let mean = 0;
    for (let r = 0; r < n; r++) mean += features[r * K + f]!;
    mean /= n || 1;
    let variance = 0;
    for (let r = 0; r < n; r++) variance += (features[r * K + f]! - mean) ** 2;
    const sd = Math.sqrt(variance / (n || 1));
    for (let r = 0; r < n; r++) features[r * K + f] = sd > 0 ? (features[r * K + f]! - mean) / sd : 0;
  }
}

/**
 * Maximum of FastChat's penalised likelihood by Newton's method with a backtracking line
 * search; `weights` (bootstrap counts per battle) default to 1, `init` to all zeros. Each
 * trial point's pass over the battles also yields its gradient and Hessian, so an accepted
 * step costs one pass. It stops once a full step moves no parameter by `tolerance` (nats):
 * convergence is quadratic there, so the error left is of order tolerance².
 */
export function fitStyleControl(data: StyleData, options: { weights?: Float64Array; init?: Float64Array; tolerance?: number } = {}): StyleFit {
  const { weights, tolerance = 1e-6 } = options;
  const m = data.models.length;
  const d = m + K;
  let x = options.init ? Float64Array.from(options.init) : new Float64Array(d);
  let grad = new Float64Array(d);
  let hess = new Float64Array(d * d);
  let trial = new Float64Array(d);
  let trialGrad = new Float64Array(d);
  let trialHess = new Float64Array(d * d);
  const step = new Float64Array(d);
  let objective = newtonSystem(data, x, weights, grad, hess);
  let iterations = 0;
  let converged = false;
  while (!converged && iterations < 100) {
    iterations++;
    choleskyFactor(hess, d);
    choleskySolve(hess, grad, step, d);
    let largest = 0;
    for (let i = 0; i < d; i++) largest = Math.max(largest, Math.abs(step[i]!));
    let t = 1;
    let value = -Infinity;
    for (let tries = 0; tries < 30; tries++) {
      for (let i = 0; i < d; i++) trial[i] = x[i]! + t * step[i]!;
      value = newtonSystem(data, trial, weights, trialGrad, trialHess);
      if (value >= objective - 1e-12 * Math.abs(objective)) break;
      t /= 2;
    }
    [x, trial] = [trial, x];
    [grad, trialGrad] = [trialGrad, grad];
    [hess, trialHess] = [trialHess, hess];
    objective = value;
    converged = t * largest < tolerance;
  }
  return unpack(data.models, x, iterations, converged);
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

/** Gradient and negated Hessian of the penalised log-likelihood at x; returns its value. */
function newtonSystem(data: StyleData, x: Float64Array, weights: Float64Array | undefined, grad: Float64Array, hess: Float64Array): number {
  const m = data.models.length;
  const d = m + K;
  const { a, b, y, features } = data;
  hess.fill(0);
  for (let i = 0; i < d; i++) {
    const reg = i < m ? REG_THETA : STYLE_REG;
    grad[i] = -reg * x[i]!;
    hess[i * d + i] = reg;
  }
  const beta = x.subarray(m);
  const hf = new Float64Array(K);
  let total = 0;
  for (let r = 0; r < data.length; r++) {
    const w = weights ? weights[r]! : 1;
    if (w === 0) continue;
    const i = a[r]!;
    const j = b[r]!;
    const o = r * K;
    let z = x[i]! - x[j]!;
    for (let k = 0; k < K; k++) z += features[o + k]! * beta[k]!;
    // One exp and one log1p give p = σ(z) and y·log σ(z) + (1 − y)·log σ(−z).
    const ez = Math.exp(-Math.abs(z));
    const p = z >= 0 ? 1 / (1 + ez) : ez / (1 + ez);
    const yr = y[r]!;
    total -= w * (Math.log1p(ez) + (z >= 0 ? (1 - yr) * z : -yr * z));
    const e = w * (yr - p);
    const h = w * p * (1 - p);
    grad[i] += e;
    grad[j] -= e;
    hess[i * d + i] += h;
    hess[j * d + j] += h;
    hess[i * d + j] -= h;
    hess[j * d + i] -= h;
    for (let k = 0; k < K; k++) {
      const f = features[o + k]!;
      grad[m + k] += e * f;
      hf[k] = h * f;
      hess[i * d + m + k] += hf[k]!;
      hess[j * d + m + k] -= hf[k]!;
    }
    for (let k = 0; k < K; k++) for (let l = 0; l <= k; l++) hess[(m + k) * d + m + l] += hf[k]! * features[o + l]!;
  }
  // Fill the upper triangle of the feature block and the (feature, model) block from their mirrors.
  for (let k = 0; k < K; k++) {
    for (let l = 0; l < k; l++) hess[(m + l) * d + m + k] = hess[(m + k) * d + m + l]!;
    for (let i = 0; i < m; i++) hess[(m + k) * d + i] = hess[i * d + m + k]!;
  }
  return total - penalty(x, m);
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
 * exp, drawn and summed in one pass, so a million battles take a few ms a round. Its error is
 * second order in the round's deviation (≈ 1/√battles per model), far below the intervals'
 * Monte Carlo noise there; the result says how far it is, measured on the first
 * LINEARISATION_CHECK_ROUNDS rounds refitted exactly.
 */
export function styleBootstrap(data: StyleData, fit: StyleFit, options: StyleBootstrapOptions): StyleBootstrapResult {
  const m = data.models.length;
  const exact = isExact(data, options);
  const { ratings, linearisationError } = styleBootstrapRounds(data, fit, options, 0, options.rounds);
  return styleBootstrapResult(ratings, m, options.rounds, exact, linearisationError);
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
 * Rounds [from, to) of styleBootstrap: their ratings (rows of m) and the largest linearisation
 * gap among them. Every round draws from its own seed, so any split gives the same rows.
 */
export function styleBootstrapRounds(data: StyleData, fit: StyleFit, options: StyleBootstrapOptions, from: number, to: number): { ratings: Float64Array; linearisationError: number } {
  const m = data.models.length;
  const exact = isExact(data, options);
  const plan = planRounds(data, fit);
  const ratings = new Float64Array((to - from) * m);
  const redraw = new UniformRedraw(data.length);
  const weights = new Float64Array(data.length);
  const grad = new Float64Array(plan.d);
  let linearisationError = 0;
  for (let round = from; round < to; round++) {
    const refitted = exact || round < LINEARISATION_CHECK_ROUNDS;
    roundGradient(plan, redraw, new Rng(roundSeed(options.seed, round)), refitted ? weights : null, grad);
    let x = linearStep(plan, grad);
    if (refitted) {
      const optimum = refit(plan, data, weights, x);
      if (!exact) linearisationError = Math.max(linearisationError, largestGap(x, optimum, m) * ELO_PER_NAT);
      if (exact) x = optimum;
    }
    writeRound(ratings.subarray((round - from) * m, (round - from + 1) * m), x, data.models, options.anchor);
  }
  return { ratings, linearisationError };
}

/**
 * Multinomial(n, 1/n for each of n battles) draws, exact, in one sequential pass: every battle
 * gets an independent Poisson(μ) count, μ = 1 − 4/√n, so the total S falls short of n with
 * near certainty; given S the counts are Multinomial(S, uniform), a draw with S > n is rejected
 * (which depends on S alone), and the n − S items left go to uniformly drawn battles: the sum is
 * Multinomial(n, uniform). The Poisson count is one 53-bit uniform against a short CDF table.
 */
const GUIDE_SLOTS = 4096;

export class UniformRedraw {
  /** cdf[k] = P(count ≤ k), ending where the tail is below 2⁻⁵⁴, then +∞. */
  readonly cdf: Float64Array;
  /**
   * Guide table (Chen & Asau): guide[j] is the count of every u in [j/G, (j+1)/G), or −1 for
   * the few slots a CDF step cuts, which search cdf: one load per battle, no unpredictable branch.
   */
  readonly guide = new Int8Array(GUIDE_SLOTS);
  /** Scratch: uniforms are drawn a block at a time (Rng.fillDoubles). */
  readonly uniforms = new Float64Array(4096);

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
 * The round's gradient at the full fit, g = Σ count·(residual, residual·features) − penalty',
 * drawing each battle's count as it goes; `weights` (exact refits) also receives the counts.
 */
function roundGradient(plan: RoundPlan, redraw: UniformRedraw, rng: Rng, weights: Float64Array | null, grad: Float64Array): void {
  const { a, b, residual, weighted, m } = plan;
  const n = redraw.n;
  const { cdf, guide, uniforms } = redraw;
  const slots = GUIDE_SLOTS;
  const block = uniforms.length;
  for (;;) {
    grad.fill(0);
    let g0 = 0, g1 = 0, g2 = 0, g3 = 0;
    let placed = 0;
    for (let r = 0; r < n; r++) {
      const slot = r % block;
      if (slot === 0) rng.fillDoubles(uniforms, Math.min(block, n - r));
      const u = uniforms[slot]!;
      let count = guide[(u * slots) | 0]!;
      if (count < 0) {
        count = 0;
        while (u >= cdf[count]!) count++;
      }
      if (weights) weights[r] = count;
      // No skip for count 0: the branch would be unpredictable, the arithmetic is cheaper.
      placed += count;
      const e = count * residual[r]!;
      grad[a[r]!] += e;
      grad[b[r]!] -= e;
      const o = r * K;
      g0 += count * weighted[o]!;
      g1 += count * weighted[o + 1]!;
      g2 += count * weighted[o + 2]!;
      g3 += count * weighted[o + 3]!;
    }
    if (placed > n) continue; // the rejected draw (about once in 30,000 rounds)
    for (; placed < n; placed++) {
      const r = Math.floor(rng.nextDouble() * n);
      if (weights) weights[r]++;
      const e = residual[r]!;
      grad[a[r]!] += e;
      grad[b[r]!] -= e;
      const o = r * K;
      g0 += weighted[o]!;
      g1 += weighted[o + 1]!;
      g2 += weighted[o + 2]!;
      g3 += weighted[o + 3]!;
    }
    grad[m] = g0;
    grad[m + 1] = g1;
    grad[m + 2] = g2;
    grad[m + 3] = g3;
    for (let i = 0; i < plan.d; i++) grad[i] -= (i < m ? REG_THETA : STYLE_REG) * plan.x[i]!;
    return;
  }
}

/** What every round reuses: the full fit, its Hessian's Cholesky factor, and per battle the residual y − p̂ and residual·features. */
interface RoundPlan {
  x: Float64Array;
  factor: Float64Array;
  d: number;
  m: number;
  a: Int32Array;
  b: Int32Array;
  residual: Float64Array;
  weighted: Float64Array;
}

function planRounds(data: StyleData, fit: StyleFit): RoundPlan {
  const m = data.models.length;
  const d = m + K;
  const x = new Float64Array(d);
  x.set(fit.theta);
  x.set(fit.beta, m);
  const factor = new Float64Array(d * d);
  newtonSystem(data, x, undefined, new Float64Array(d), factor);
  choleskyFactor(factor, d);
  const residual = new Float64Array(data.length);
  const weighted = new Float64Array(data.length * K);
  const { a, b, y, features } = data;
  for (let r = 0; r < data.length; r++) {
    let z = x[a[r]!]! - x[b[r]!]!;
    for (let k = 0; k < K; k++) z += features[r * K + k]! * x[m + k]!;
    const e = y[r]! - 1 / (1 + Math.exp(-z));
    residual[r] = e;
    for (let k = 0; k < K; k++) weighted[r * K + k] = e * features[r * K + k]!;
  }
  return { x, factor, d, m, a, b, residual, weighted };
}

/** x̂ + H⁻¹·g. */
function linearStep(plan: RoundPlan, grad: Float64Array): Float64Array {
  const step = new Float64Array(plan.d);
  choleskySolve(plan.factor, grad, step, plan.d);
  for (let i = 0; i < plan.d; i++) step[i] += plan.x[i]!;
  return step;
}

/** The round's optimum from `start`: chord steps with the full fit's factor; Newton when they stall. */
function refit(plan: RoundPlan, data: StyleData, weights: Float64Array, start: Float64Array): Float64Array {
  const x = Float64Array.from(start);
  const grad = new Float64Array(plan.d);
  const step = new Float64Array(plan.d);
  let previous = Infinity;
  for (let iteration = 0; iteration < 40; iteration++) {
    gradientAt(data, x, weights, grad);
    choleskySolve(plan.factor, grad, step, plan.d);
    let largest = 0;
    for (let i = 0; i < plan.d; i++) largest = Math.max(largest, Math.abs(step[i]!));
    if (largest > 0.5 || largest > 0.5 * previous) break;
    for (let i = 0; i < plan.d; i++) x[i] += step[i]!;
    // 1e-7 nats ≈ 0.00004 rating points.
    if (largest < 1e-7) return x;
    previous = largest;
  }
  const m = data.models.length;
  const fit = fitStyleControl(data, { weights, init: x, tolerance: 1e-7 });
  const out = new Float64Array(plan.d);
  out.set(fit.theta);
  out.set(fit.beta, m);
  return out;
}

function gradientAt(data: StyleData, x: Float64Array, weights: Float64Array, grad: Float64Array): void {
  const m = data.models.length;
  const { a, b, y, features } = data;
  grad.fill(0);
  const b0 = x[m]!, b1 = x[m + 1]!, b2 = x[m + 2]!, b3 = x[m + 3]!;
  let g0 = 0, g1 = 0, g2 = 0, g3 = 0;
  for (let r = 0; r < data.length; r++) {
    // No skip for weight 0: about a third of the rounds' weights are, in no predictable order.
    const w = weights[r]!;
    const o = r * K;
    const f0 = features[o]!, f1 = features[o + 1]!, f2 = features[o + 2]!, f3 = features[o + 3]!;
    const z = x[a[r]!]! - x[b[r]!]! + f0 * b0 + f1 * b1 + f2 * b2 + f3 * b3;
    const e = w * (y[r]! - 1 / (1 + Math.exp(-z)));
    grad[a[r]!] += e;
    grad[b[r]!] -= e;
    g0 += e * f0;
    g1 += e * f1;
    g2 += e * f2;
    g3 += e * f3;
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

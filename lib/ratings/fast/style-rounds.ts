/**
 * Fast path: the style-controlled bootstrap rounds. core/style-control.ts says what a round is
 * (styleRound: FastChat's compute_bootstrap_style_control, the fit on the battles redrawn with
 * replacement); here the rounds start from the full fit and reuse its Hessian factor: chord
 * steps on small data (each a gradient pass, fast/style-passes.ts, and two triangular solves), and
 * past EXACT_BOOTSTRAP_WORK a single Newton step from per-battle terms, two rounds summed in one
 * hand-unrolled pass. Justified by bench/ratings-bench.ts --style-control
 * (bench/results/ratings-style-*.json): exact refits of 100 rounds on a million battles took
 * minutes, these take seconds. Pinned to styleRound in test/unit/ratings/fast-vs-core.test.ts
 * and style-control.test.ts (linearised against exact rounds).
 */
import { bootstrapResult, type BootstrapResult } from "../core/bootstrap";
import { ELO_PER_NAT } from "../core/bradley-terry";
import { choleskyFactor, choleskySolve } from "../core/cholesky";
import { roundSeed, Rng } from "../core/rng";
import { addPenalty, fitStyleControl, writeRound, type StyleData, type StyleFit } from "../core/style-control";
import { STYLE_FEATURES } from "../style-counts";
import type { Anchor } from "../types";
import { redrawCounts, UniformRedraw } from "./poisson";
import { passChunks, styleGradientPass, stylePass } from "./style-passes";
import { shared } from "./threads";

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
    addPenalty(x, m, grad);
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
    stylePass(data, x, undefined, new Float64Array(d), factor, { parts: new Float64Array(passChunks(d) * (1 + d + d * d)) });
    addPenalty(x, m, new Float64Array(d), factor);
    choleskyFactor(factor, d);
  }
  const terms = shared(Float64Array, data.length * TERMS);
  const { a, b, y, features } = data;
  // Per battle y − σ(z), z as core's styleLogit with β in locals (the same bits, a third faster).
  const b0 = x[m]!, b1 = x[m + 1]!, b2 = x[m + 2]!, b3 = x[m + 3]!;
  for (let r = 0; r < data.length; r++) {
    const o = r * K;
    const f0 = features[o]!, f1 = features[o + 1]!, f2 = features[o + 2]!, f3 = features[o + 3]!;
    const e = y[r]! - 1 / (1 + Math.exp(-(x[a[r]!]! - x[b[r]!]! + f0 * b0 + f1 * b1 + f2 * b2 + f3 * b3)));
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
    styleGradientPass(data, x, weights, grad);
    addPenalty(x, plan.m, grad);
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

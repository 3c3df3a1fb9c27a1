import { ELO_PER_NAT, logSigmoid, shiftRatings } from "./bradley-terry";
import { choleskyFactor, choleskySolve } from "./cholesky";
import { pairOrder, passChunks, stylePass, type PassScratch } from "../fast/style-passes";
import { shared } from "../fast/threads";
import { STYLE_COUNTS, STYLE_FEATURES } from "../style-counts";
import { OUTCOME_A, OUTCOME_B, type Anchor, type VoteTable } from "../types";

/**
 * Style control, as FastChat's compute_style_control (rating_systems.py): a Bradley–Terry model
 * whose log-odds for "A beats B" also carry four style terms (contextual_bt_loss_and_grad),
 *
 *   logit P(A beats B) = (θA − θB) + Σk βk·fk,   fk = z-score over the battles of (ak − bk) / (ak + bk + 1),
 *
 * a, b each side's answer tokens, markdown headers, list items and bold spans (preprocess_for_style).
 * The ratings then say how models compare at equal length and formatting. Like FastChat: ties
 * count as half a win (log-loss with label ½), and the loss carries an L2 penalty
 * reg/2·(Σ(θ/ln 10)² + Σβ²) with reg = 0.5 (FastChat fits θ in log10 units); with it, the fitted θ
 * average exactly 0. Unlike FastChat's L-BFGS (fit_contextual_bt: 100 iterations, gtol 1e-6),
 * Newton's method runs to the optimum. Ratings are 400/ln 10 · θ + 1000, or anchored
 * (scale_and_offset). The bootstrap (compute_bootstrap_style_control) is styleRound below, run
 * by fast/style-rounds.ts.
 */
export const STYLE_REG = 0.5;
const REG_THETA = STYLE_REG / (Math.LN10 * Math.LN10);
const K = STYLE_FEATURES.length;

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
 * FastChat's preprocess_for_style: the battles `rows` of `table` whose two models are both in
 * `models` (sorted names, the fit's index order), with label y and features fk = (ak − bk) /
 * (ak + bk + 1), each standardised to mean 0 and (population) standard deviation 1 as numpy's
 * mean and std. A feature constant over these battles has no standard deviation (FastChat
 * would divide by zero): it is set to 0 and its β stays 0. The fit does not depend on battle
 * order; grouping by pair (fast/style-passes.ts, pairOrder) only changes the rounding
 * (`grouped: false` keeps vote order: tests compare the two). The arrays are on shared memory
 * (fast/threads.ts), where worker threads read them in place.
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
  let n = 0;
  for (let k = 0; k < total; k++) {
    const v = rows ? rows[k]! : k;
    const i = local[modelA[v]!]!;
    const j = local[modelB[v]!]!;
    if (i < 0 || j < 0) continue;
    pairs[n] = i * m + j;
    kept[n++] = v;
  }
  const dest = pairOrder(pairs, n, m, options.grouped);
  // Locals: under a CommonJS transform (tsx) each read of an imported binding is a getter call.
  const [winA, winB, counts] = [OUTCOME_A, OUTCOME_B, STYLE_COUNTS];
  const a = shared(Int32Array, n);
  const b = shared(Int32Array, n);
  const y = shared(Float64Array, n);
  const features = shared(Float64Array, n * K);
  const sum = new Float64Array(K);
  const squares = new Float64Array(K);
  const low = new Float64Array(K).fill(Infinity);
  const high = new Float64Array(K).fill(-Infinity);
  for (let k = 0; k < n; k++) {
    const v = kept[k]!;
    const r = dest[k]!;
    const i = Math.floor(pairs[k]! / m);
    a[r] = i;
    b[r] = pairs[k]! - i * m;
    const outcome = table.outcome[v]!;
    y[r] = outcome === winA ? 1 : outcome === winB ? 0 : 0.5;
    for (let f = 0; f < K; f++) {
      const countA = style[v * counts + f]!;
      const countB = style[v * counts + K + f]!;
      const feature = (countA - countB) / (countA + countB + 1);
      features[r * K + f] = feature;
      sum[f] += feature;
      squares[f] += feature * feature;
      low[f] = Math.min(low[f]!, feature);
      high[f] = Math.max(high[f]!, feature);
    }
  }
  // Mean and sd from the sums (features lie in [−1, 1]: no cancellation to fear).
  const mean = sum.map((s) => s / (n || 1));
  const scale = mean.map((mu, f) => {
    const sd = Math.sqrt(Math.max(0, squares[f]! / (n || 1) - mu * mu));
    return low[f] === high[f] || sd === 0 ? 0 : 1 / sd;
  });
  for (let r = 0; r < n; r++) for (let f = 0; f < K; f++) features[r * K + f] = (features[r * K + f]! - mean[f]!) * scale[f]!;
  const starts: number[] = [];
  for (let r = 0; r < n; r++) if (r === 0 || a[r] !== a[r - 1] || b[r] !== b[r - 1]) starts.push(r);
  starts.push(n);
  const runs = shared(Int32Array, starts.length);
  runs.set(starts);
  return { models: [...models], a, b, y, features, runs, length: n };
}

/** Battle r's logit z = (θA − θB) + Σk βk·fk, given gap = θA − θB. */
export function styleLogit(data: StyleData, x: Float64Array, r: number, gap: number): number {
  const m = data.models.length;
  let z = gap;
  for (let k = 0; k < K; k++) z += data.features[r * K + k]! * x[m + k]!;
  return z;
}

/**
 * FastChat's contextual_bt_loss_and_grad, written out (as a likelihood to maximise): the
 * penalised log-likelihood Σ w·(y·log σ(z) + (1 − y)·log σ(−z)) − penalty at x = (θ, β), z the
 * battle's logit above, and its gradient Σ w·(y − σ(z))·(±1 for A and B, f) − penalty′ into
 * grad. With `hess`, also the value (else 0 is returned) and the negated Hessian
 * Σ w·σ(z)(1 − σ(z))·v·vᵀ + penalty″ (v = ±1 for A and B, then f). `weights` (bootstrap counts
 * per battle) default to 1. Runs use fast/style-passes.ts, which sums the same terms faster:
 * stylePass for a fit's passes, styleGradientPass (this gradient, bit for bit) for the chord
 * steps of bootstrap refits. Tests pin both to this function.
 */
export function styleSystem(data: StyleData, x: Float64Array, weights: Float64Array | undefined, grad: Float64Array, hess?: Float64Array): number {
  const m = data.models.length;
  const d = m + K;
  const { a, b, y, features, runs } = data;
  grad.fill(0);
  hess?.fill(0);
  let value = 0;
  for (let run = 0; run + 1 < runs.length; run++) {
    // A run is the battles of one ordered pair: their model terms are added up first.
    const i = a[runs[run]!]!;
    const j = b[runs[run]!]!;
    const gap = x[i]! - x[j]!;
    let pairSum = 0;
    for (let r = runs[run]!; r < runs[run + 1]!; r++) {
      const w = weights ? weights[r]! : 1;
      const z = styleLogit(data, x, r, gap);
      const p = 1 / (1 + Math.exp(-z));
      const e = w * (y[r]! - p);
      pairSum += e;
      for (let k = 0; k < K; k++) grad[m + k] += e * features[r * K + k]!;
      if (!hess) continue;
      value += w * (y[r]! * logSigmoid(z) + (1 - y[r]!) * logSigmoid(-z));
      const h = w * p * (1 - p);
      hess[i * d + i] += h;
      hess[j * d + j] += h;
      hess[i * d + j] -= h;
      hess[j * d + i] -= h;
      for (let k = 0; k < K; k++) {
        const hf = h * features[r * K + k]!;
        hess[i * d + m + k] += hf;
        hess[j * d + m + k] -= hf;
        hess[(m + k) * d + i] += hf;
        hess[(m + k) * d + j] -= hf;
        for (let l = 0; l < K; l++) hess[(m + k) * d + m + l] += hf * features[r * K + l]!;
      }
    }
    grad[i] += pairSum;
    grad[j] -= pairSum;
  }
  addPenalty(x, m, grad, hess);
  return hess ? value - penalty(x, m) : 0;
}

/**
 * Maximum of FastChat's penalised likelihood by Newton's method with a backtracking line
 * search; `weights` (bootstrap counts per battle) default to 1, `init` to all zeros, `pass`
 * to fast/style-passes.ts on this thread alone ("plain": styleSystem, for tests). Each
 * trial point's pass over the battles also yields its gradient and Hessian, so an accepted
 * step costs one pass. Once a Newton step moves no parameter by `tolerance` (nats) it is taken
 * without a pass to check it: convergence is quadratic there, each step about 0.4 × the
 * previous one squared on the benchmark's million battles (0.26, 0.025, 2.5·10⁻⁴, 2.4·10⁻⁸),
 * so the error left is of order tolerance²: ≈ 10⁻⁶ nats by default, 10⁻⁴ rating points.
 */
export function fitStyleControl(data: StyleData, options: { weights?: Float64Array; init?: Float64Array; tolerance?: number; pass?: PassScratch | "plain" } = {}): StyleFit {
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

/** The penalty's derivatives: its gradient taken from grad, its Hessian (diagonal) added to hess. */
export function addPenalty(x: Float64Array, m: number, grad: Float64Array, hess?: Float64Array): void {
  for (let i = 0; i < x.length; i++) {
    const reg = i < m ? REG_THETA : STYLE_REG;
    grad[i] -= reg * x[i]!;
    if (hess) hess[i * x.length + i] += reg;
  }
}

/** FastChat's L2 penalty reg/2·(Σ(θ/ln 10)² + Σβ²), in natural-log θ. */
function penalty(x: Float64Array, m: number): number {
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += (i < m ? REG_THETA : STYLE_REG) * x[i]! * x[i]!;
  return 0.5 * sum;
}

/** Value, gradient and negated Hessian of the penalised log-likelihood at x (see styleSystem). */
function newtonSystem(data: StyleData, x: Float64Array, weights: Float64Array | undefined, grad: Float64Array, hess: Float64Array, pass: PassScratch | "plain"): number {
  if (pass === "plain") return styleSystem(data, x, weights, grad, hess);
  const m = data.models.length;
  const total = stylePass(data, x, weights, grad, hess, pass);
  addPenalty(x, m, grad, hess);
  return total - penalty(x, m);
}

/**
 * One bootstrap round of FastChat's compute_bootstrap_style_control, plainly: the battles redrawn
 * with replacement (weights[r] = how often battle r was drawn) and the model refitted from the
 * full fit. fast/style-rounds.ts runs the rounds faster (chord steps, or one Newton step on
 * large data); tests pin its rounds to this one.
 */
export function styleRound(data: StyleData, fit: StyleFit, weights: Float64Array, anchor?: Anchor): Float64Array {
  const init = new Float64Array(data.models.length + K);
  init.set(fit.theta);
  init.set(fit.beta, data.models.length);
  return styleRatings(fitStyleControl(data, { weights, init, tolerance: 1e-7, pass: "plain" }), anchor);
}

/** The fit's ratings on the Elo scale: mean 1000, or shifted so the anchor model sits at its rating. */
export function styleRatings(fit: StyleFit, anchor?: Anchor): Float64Array {
  const row = new Float64Array(fit.models.length);
  writeRound(row, fit.theta, fit.models, anchor);
  return row;
}

/** A round's ratings on the Elo scale, centred and shifted like the full fit's. */
export function writeRound(row: Float64Array, x: Float64Array, models: readonly string[], anchor: Anchor | undefined): void {
  const m = row.length;
  let mean = 0;
  for (let i = 0; i < m; i++) mean += x[i]!;
  mean /= m || 1;
  for (let i = 0; i < m; i++) row[i] = (x[i]! - mean) * ELO_PER_NAT;
  shiftRatings(row, models, anchor);
}

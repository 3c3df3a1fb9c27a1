import { choleskyFactor, choleskySolve } from "./cholesky";
import type { Anchor, PairCounts } from "../types";

/** Elo points per natural-log unit of strength: 400 / ln 10. */
export const ELO_PER_NAT = 400 / Math.LN10;
export const BT_MEAN_RATING = 1000;

export interface BradleyTerryOptions {
  /** Starting strengths (natural-log scale), e.g. the full fit when bootstrapping. */
  init?: Float64Array;
  /** Stop when no strength moves more than this in a step (natural-log units). */
  tolerance?: number;
  maxIterations?: number;
  /**
   * L2 penalty λ/2·Σθ² on the log-strengths. Without it a model that wins (or loses)
   * every battle has no finite maximum-likelihood rating. With the default λ = 1e-6
   * such a model lands a finite 2000–3000 points from the rest (and, under "mean
   * 1000", pulls the others' average down by its excess / number of models), while
   * the gaps between the other models move by ~1e-4 points. The leaderboard therefore fits
   * only the models with a finite rating and bounds the others (separation.ts).
   */
  l2?: number;
}

export interface BradleyTerryFit {
  models: string[];
  /** Log-strengths θ (natural-log scale), mean 0: P(i beats j) = 1 / (1 + e^(θj − θi)). */
  theta: Float64Array;
  iterations: number;
  converged: boolean;
}

/**
 * Maximum-likelihood Bradley–Terry fit on pair counts, a tie counting as half a win
 * for each side: FastChat's compute_mle_elo (elo_analysis.py; a logistic regression on each
 * battle with ties entered as one win each way) and compute_bt (rating_systems.py), on the
 * counts instead of one row per battle. P(i beats j) = σ(θi − θj); rating = 400/ln 10 · θ + shift. Newton's method on the (concave) penalised log-likelihood, long steps
 * checked by a backtracking line search: a handful of m×m Cholesky solves, whatever
 * the number of votes.
 */
export function fitBradleyTerry(counts: PairCounts, options: BradleyTerryOptions = {}): BradleyTerryFit {
  return fitPairs(pairsOf(counts), counts.models, options);
}

/** Steps longer than this (natural-log units, ≈ 87 Elo points) are checked by a line search. */
export const TRUSTED_STEP = 0.5;

/** The Newton loop on a pair list (the bootstrap refits resampled pairs with it). */
export function fitPairs(pairs: Pairs, models: string[], options: BradleyTerryOptions = {}): BradleyTerryFit {
  const { tolerance = 1e-9, maxIterations = 100, l2 = 1e-6 } = options;
  const m = models.length;
  const theta = options.init ? Float64Array.from(options.init) : new Float64Array(m);
  center(theta);

  const grad = new Float64Array(m);
  const hess = new Float64Array(m * m);
  const step = new Float64Array(m);
  const trial = new Float64Array(m);
  let iterations = 0;
  let converged = m <= 1;
  while (!converged && iterations < maxIterations) {
    iterations++;
    newtonSystem(pairs, theta, l2, grad, hess, m);
    choleskyFactor(hess, m);
    choleskySolve(hess, grad, step, m);
    let largest = 0;
    for (let i = 0; i < m; i++) largest = Math.max(largest, Math.abs(step[i]!));

    // Near the optimum (every warm-started bootstrap fit) the full step is safe and the
    // likelihood need not be evaluated; far from it, backtrack until it does not fall.
    let t = 1;
    if (largest > TRUSTED_STEP) {
      const objective = logLikelihood(pairs, theta, l2);
      for (let tries = 0; tries < 30; tries++) {
        for (let i = 0; i < m; i++) trial[i] = theta[i]! + t * step[i]!;
        if (logLikelihood(pairs, trial, l2) >= objective - 1e-12 * Math.abs(objective)) break;
        t /= 2;
      }
    }
    for (let i = 0; i < m; i++) theta[i] += t * step[i]!;
    converged = t * largest < tolerance;
  }
  center(theta);
  return { models, theta, iterations, converged };
}

/**
 * Ratings on the Elo scale: mean 1000, or shifted so `anchor.model` sits at `anchor.rating`
 * (FastChat's scale_and_offset / compute_mle_elo pin mixtral-8x7b-instruct-v0.1 at 1114).
 */
export function toEloScale(fit: BradleyTerryFit, anchor?: Anchor): Float64Array {
  const out = new Float64Array(fit.theta.length);
  for (let i = 0; i < out.length; i++) out[i] = fit.theta[i]! * ELO_PER_NAT;
  return shiftRatings(out, fit.models, anchor);
}

/** Shifts ratings that average 0 to mean 1000 or to the anchor; the anchor must be rated. */
export function shiftRatings(ratings: Float64Array, models: readonly string[], anchor?: Anchor): Float64Array {
  let shift = BT_MEAN_RATING;
  if (anchor) {
    const i = models.indexOf(anchor.model);
    if (i < 0) throw new Error(`anchor model ${JSON.stringify(anchor.model)} has no battles`);
    shift = anchor.rating - ratings[i]!;
  }
  for (let i = 0; i < ratings.length; i++) ratings[i] += shift;
  return ratings;
}

/** Pairs that met at least once: indices, wins of i counting a tie as half, and battles. */
export interface Pairs {
  i: Int32Array;
  j: Int32Array;
  winsI: Float64Array;
  battles: Float64Array;
}

export function pairsOf({ models, wins, ties }: PairCounts): Pairs {
  const m = models.length;
  let size = 0;
  for (let i = 0; i < m; i++) for (let j = i + 1; j < m; j++) if (wins[i * m + j]! + wins[j * m + i]! + ties[i * m + j]! > 0) size++;
  const pairs: Pairs = { i: new Int32Array(size), j: new Int32Array(size), winsI: new Float64Array(size), battles: new Float64Array(size) };
  let k = 0;
  for (let i = 0; i < m; i++) {
    for (let j = i + 1; j < m; j++) {
      const tie = ties[i * m + j]!;
      const battles = wins[i * m + j]! + wins[j * m + i]! + tie;
      if (battles === 0) continue;
      pairs.i[k] = i;
      pairs.j[k] = j;
      pairs.winsI[k] = wins[i * m + j]! + 0.5 * tie;
      pairs.battles[k] = battles;
      k++;
    }
  }
  return pairs;
}

/** log σ(x) = −log(1 + e^−x), stable for large |x|: the one log-sigmoid of the ratings maths. */
export function logSigmoid(x: number): number {
  return x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x));
}

/** Σ over pairs of wins_i·log σ(θi − θj) + wins_j·log σ(θj − θi), minus the L2 penalty (FastChat's bt_loss_and_grad, negated). */
function logLikelihood(pairs: Pairs, theta: Float64Array, l2: number): number {
  let total = 0;
  for (let k = 0; k < pairs.i.length; k++) {
    const d = theta[pairs.i[k]!]! - theta[pairs.j[k]!]!;
    const w = pairs.winsI[k]!;
    total += w * logSigmoid(d) + (pairs.battles[k]! - w) * logSigmoid(-d);
  }
  for (let i = 0; i < theta.length; i++) total -= 0.5 * l2 * theta[i]! * theta[i]!;
  return total;
}

/**
 * Gradient and negated Hessian of the penalised log-likelihood. The likelihood is flat
 * along "shift everyone", so μ·11ᵀ is added: it makes the matrix well conditioned and,
 * because the gradient sums to zero when θ has mean 0, leaves the step unchanged.
 */
export function newtonSystem(pairs: Pairs, theta: Float64Array, l2: number, grad: Float64Array, hess: Float64Array, m: number): void {
  hess.fill(0);
  for (let i = 0; i < m; i++) grad[i] = -l2 * theta[i]!;
  for (let k = 0; k < pairs.i.length; k++) {
    const i = pairs.i[k]!;
    const j = pairs.j[k]!;
    const n = pairs.battles[k]!;
    const p = 1 / (1 + Math.exp(theta[j]! - theta[i]!));
    const g = pairs.winsI[k]! - n * p;
    grad[i] += g;
    grad[j] -= g;
    const h = n * p * (1 - p);
    hess[i * m + i] += h;
    hess[j * m + j] += h;
    hess[i * m + j] -= h;
    hess[j * m + i] -= h;
  }
  let trace = 0;
  for (let i = 0; i < m; i++) trace += hess[i * m + i]!;
  const mu = trace / (m * m) + 1e-12;
  for (let i = 0; i < m; i++) {
    hess[i * m + i] += l2;
    for (let j = 0; j < m; j++) hess[i * m + j] += mu;
  }
}

export function center(theta: Float64Array): void {
  if (theta.length === 0) return;
  let mean = 0;
  for (let i = 0; i < theta.length; i++) mean += theta[i]!;
  mean /= theta.length;
  for (let i = 0; i < theta.length; i++) theta[i] -= mean;
}

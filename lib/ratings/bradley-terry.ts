import type { Anchor, PairCounts } from "./types";

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
   * every battle has no finite maximum-likelihood rating; with λ = 1e-6 it lands a
   * finite ~3000 points away while every other rating moves by far less than 0.01.
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
 * for each side. Newton's method with a backtracking line search on the (concave)
 * penalised log-likelihood: a handful of m×m Cholesky solves, whatever the number of
 * votes, and 2–3 steps from a warm start.
 */
export function fitBradleyTerry(counts: PairCounts, options: BradleyTerryOptions = {}): BradleyTerryFit {
  const { tolerance = 1e-9, maxIterations = 100, l2 = 1e-6 } = options;
  const m = counts.models.length;
  const pairs = decisivePairs(counts);
  const theta = options.init ? Float64Array.from(options.init) : new Float64Array(m);
  center(theta);

  const grad = new Float64Array(m);
  const hess = new Float64Array(m * m);
  const step = new Float64Array(m);
  const trial = new Float64Array(m);
  let objective = logLikelihood(pairs, theta, l2);
  let iterations = 0;
  let converged = m <= 1;
  while (!converged && iterations < maxIterations) {
    iterations++;
    newtonSystem(pairs, theta, l2, grad, hess, m);
    choleskySolve(hess, grad, step, m);

    // Backtrack until the likelihood does not fall; a full step is taken near the optimum.
    let t = 1;
    let next = objective;
    for (let tries = 0; tries < 30; tries++) {
      for (let i = 0; i < m; i++) trial[i] = theta[i]! + t * step[i]!;
      next = logLikelihood(pairs, trial, l2);
      if (next >= objective - 1e-12 * Math.abs(objective)) break;
      t /= 2;
    }
    theta.set(trial);
    objective = next;
    let largest = 0;
    for (let i = 0; i < m; i++) largest = Math.max(largest, Math.abs(t * step[i]!));
    converged = largest < tolerance;
  }
  center(theta);
  return { models: counts.models, theta, iterations, converged };
}

/** Ratings on the Elo scale: mean 1000, or shifted so `anchor.model` sits at `anchor.rating`. */
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

/** Pairs that met at least once: indices, half-tie-adjusted wins of i, and battles. */
interface Pairs {
  i: Int32Array;
  j: Int32Array;
  winsI: Float64Array;
  battles: Float64Array;
}

function decisivePairs({ models, wins, ties }: PairCounts): Pairs {
  const m = models.length;
  const list: number[] = [];
  for (let i = 0; i < m; i++) {
    for (let j = i + 1; j < m; j++) {
      const n = wins[i * m + j]! + wins[j * m + i]! + ties[i * m + j]!;
      if (n > 0) list.push(i, j);
    }
  }
  const size = list.length / 2;
  const pairs: Pairs = {
    i: new Int32Array(size),
    j: new Int32Array(size),
    winsI: new Float64Array(size),
    battles: new Float64Array(size),
  };
  for (let k = 0; k < size; k++) {
    const i = list[2 * k]!;
    const j = list[2 * k + 1]!;
    const tie = ties[i * m + j]!;
    pairs.i[k] = i;
    pairs.j[k] = j;
    pairs.winsI[k] = wins[i * m + j]! + 0.5 * tie;
    pairs.battles[k] = wins[i * m + j]! + wins[j * m + i]! + tie;
  }
  return pairs;
}

/** log σ(x), stable for large |x|. */
function logSigmoid(x: number): number {
  return x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x));
}

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
function newtonSystem(pairs: Pairs, theta: Float64Array, l2: number, grad: Float64Array, hess: Float64Array, m: number): void {
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

/** Solves A·x = b for symmetric positive-definite A (row-major, overwritten by its Cholesky factor). */
function choleskySolve(a: Float64Array, b: Float64Array, x: Float64Array, m: number): void {
  for (let j = 0; j < m; j++) {
    const rowJ = j * m;
    let d = a[rowJ + j]!;
    for (let k = 0; k < j; k++) d -= a[rowJ + k]! * a[rowJ + k]!;
    const ljj = Math.sqrt(Math.max(d, 1e-300));
    a[rowJ + j] = ljj;
    for (let i = j + 1; i < m; i++) {
      const rowI = i * m;
      let s = a[rowI + j]!;
      for (let k = 0; k < j; k++) s -= a[rowI + k]! * a[rowJ + k]!;
      a[rowI + j] = s / ljj;
    }
  }
  for (let i = 0; i < m; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= a[i * m + k]! * x[k]!;
    x[i] = s / a[i * m + i]!;
  }
  for (let i = m - 1; i >= 0; i--) {
    let s = x[i]!;
    for (let k = i + 1; k < m; k++) s -= a[k * m + i]! * x[k]!;
    x[i] = s / a[i * m + i]!;
  }
}

function center(theta: Float64Array): void {
  if (theta.length === 0) return;
  let mean = 0;
  for (let i = 0; i < theta.length; i++) mean += theta[i]!;
  mean /= theta.length;
  for (let i = 0; i < theta.length; i++) theta[i] -= mean;
}

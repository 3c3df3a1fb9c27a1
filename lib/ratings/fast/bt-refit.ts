/**
 * Fast path: warm refits of the plain Bradley–Terry bootstrap (core/bootstrap.ts). A round's
 * counts differ from the real ones by a few percent, so the round is refitted from the full
 * fit reusing one Cholesky factor of its Hessian (a chord method: a gradient and two triangular
 * solves a step instead of a factorisation), with a gradient that takes e^θ once per model
 * rather than an exp per pair. Justified by the compute column of bench/ratings-bench.ts
 * (bench/results/ratings-*.json): 100 rounds are most of a run's compute. Pinned to
 * core/bradley-terry.ts's fitPairs (a cold Newton fit of the same counts) in
 * test/unit/ratings/fast-vs-core.test.ts.
 */
import { center, fitPairs, newtonSystem, TRUSTED_STEP, type BradleyTerryFit, type BradleyTerryOptions, type Pairs } from "../core/bradley-terry";
import { choleskyFactor, choleskySolve } from "../core/cholesky";

/**
 * Refit of slightly changed counts (a bootstrap round) from `start`, reusing one
 * Cholesky factor of the start's Hessian for every step (a chord method): each step
 * costs a gradient and two triangular solves instead of a factorisation. Resampling
 * moves the Hessian by a few percent, so each step gains over a digit. Falls back to
 * full Newton when the steps stop shrinking fast.
 */
export function refitFrom(pairs: Pairs, start: BradleyTerryFit, factor: Float64Array, options: BradleyTerryOptions = {}): BradleyTerryFit {
  const { tolerance = 1e-9, l2 = 1e-6 } = options;
  const m = start.models.length;
  const theta = Float64Array.from(start.theta);
  const grad = new Float64Array(m);
  const step = new Float64Array(m);
  const strength = new Float64Array(m);
  let previous = Infinity;
  for (let iterations = 1; iterations <= 40; iterations++) {
    gradient(pairs, theta, l2, grad, strength);
    choleskySolve(factor, grad, step, m);
    let largest = 0;
    for (let i = 0; i < m; i++) largest = Math.max(largest, Math.abs(step[i]!));
    if (largest > TRUSTED_STEP || largest > 0.5 * previous) break;
    for (let i = 0; i < m; i++) theta[i] += step[i]!;
    if (largest < tolerance) {
      center(theta);
      return { models: start.models, theta, iterations, converged: true };
    }
    previous = largest;
  }
  return fitPairs(pairs, start.models, { ...options, init: start.theta });
}

/** Cholesky factor of the (conditioned) Hessian at a fit, for refitFrom. */
export function hessianFactor(pairs: Pairs, fit: BradleyTerryFit, l2 = 1e-6): Float64Array {
  const m = fit.models.length;
  const hess = new Float64Array(m * m);
  newtonSystem(pairs, fit.theta, l2, new Float64Array(m), hess, m);
  choleskyFactor(hess, m);
  return hess;
}

/**
 * Gradient of the penalised log-likelihood. e^θ is taken once per model, so a pair costs
 * a division instead of an exp: σ(θi − θj) = e^θi / (e^θi + e^θj), scaled by the largest
 * θ so nothing overflows (a pair whose both terms underflow takes the exp form).
 */
function gradient(pairs: Pairs, theta: Float64Array, l2: number, grad: Float64Array, strength: Float64Array): void {
  let top = -Infinity;
  for (let i = 0; i < theta.length; i++) {
    grad[i] = -l2 * theta[i]!;
    top = Math.max(top, theta[i]!);
  }
  for (let i = 0; i < theta.length; i++) strength[i] = Math.exp(theta[i]! - top);
  const { i: left, j: right, winsI, battles } = pairs;
  for (let k = 0; k < left.length; k++) {
    const i = left[k]!;
    const j = right[k]!;
    const si = strength[i]!;
    const both = si + strength[j]!;
    const p = both > 0 ? si / both : 1 / (1 + Math.exp(theta[j]! - theta[i]!));
    const g = winsI[k]! - battles[k]! * p;
    grad[i] += g;
    grad[j] -= g;
  }
}

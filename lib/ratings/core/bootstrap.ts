import { ELO_PER_NAT, fitBradleyTerry, pairsOf, shiftRatings, type BradleyTerryFit, type Pairs } from "./bradley-terry";
import { hessianFactor, refitFrom } from "../fast/bt-refit";
import { MultinomialSampler } from "../fast/multinomial";
import { roundSeed, Rng } from "./rng";
import type { Anchor, PairCounts } from "../types";

export interface BootstrapOptions {
  rounds?: number;
  seed?: number;
  anchor?: Anchor;
  /** The fit on the real counts: each round starts from it and reuses its Hessian. */
  fullFit?: BradleyTerryFit;
}

export interface BootstrapResult {
  /** Per model (index of counts.models): 2.5% and 97.5% quantiles on the Elo scale. */
  ciLow: Float64Array;
  ciHigh: Float64Array;
  /** ratings[round * m + model] on the Elo scale. */
  ratings: Float64Array;
  rounds: number;
}

/**
 * Bootstrap confidence intervals for Bradley–Terry ratings, as FastChat's get_bootstrap_result
 * (elo_analysis.py: battles.sample(frac=1.0, replace=True), refit, 2.5% and 97.5% quantiles of
 * the rounds) and compute_bootstrap_bt. Each round redraws all N battles at once as a multinomial over the nonzero (pair, outcome) cells weighted
 * by their counts — the same distribution as resampling battles one by one, at the
 * cost of about one table lookup per cell (MultinomialSampler) — and refits. Seeded: same counts and seed, same CIs.
 */
export function bootstrap(counts: PairCounts, options: BootstrapOptions = {}): BootstrapResult {
  const { rounds = 100 } = options;
  return bootstrapResult(bootstrapRounds(counts, options, 0, rounds), counts.models.length, rounds);
}

/**
 * Ratings of rounds [from, to), row by row on the Elo scale. Each round draws from its
 * own seed (derived from the run's seed and the round number), so rounds can run on
 * any thread, in any split, and give the same bits.
 */
export function bootstrapRounds(counts: PairCounts, options: BootstrapOptions, from: number, to: number): Float64Array {
  const { seed = 42, anchor } = options;
  const m = counts.models.length;
  const pairs = pairsOf(counts);
  const { pairOf, isTie, isWinI, weights, total } = cells(pairs, counts);
  const fullFit = options.fullFit ?? fitBradleyTerry(counts);
  const factor = hessianFactor(pairs, fullFit);
  const sampler = new MultinomialSampler(total, weights);
  const drawn = new Float64Array(weights.length);
  const sample: Pairs = { i: pairs.i, j: pairs.j, winsI: new Float64Array(pairs.i.length), battles: new Float64Array(pairs.i.length) };
  const ratings = new Float64Array(Math.max(0, to - from) * m);

  for (let round = from; round < to; round++) {
    sampler.draw(new Rng(roundSeed(seed, round)), drawn);
    sample.winsI.fill(0);
    sample.battles.fill(0);
    for (let c = 0; c < weights.length; c++) {
      const k = pairOf[c]!;
      const x = drawn[c]!;
      sample.battles[k] += x;
      if (isWinI[c]) sample.winsI[k] += x;
      else if (isTie[c]) sample.winsI[k] += 0.5 * x;
    }
    // A warm refit (fast/bt-refit.ts; the same optimum as fitPairs, pinned in fast-vs-core.test.ts).
    // 1e-6 nats ≈ 0.0002 rating points: far below what a CI can resolve.
    const fit = refitFrom(sample, fullFit, factor, { tolerance: 1e-6 });
    const row = ratings.subarray((round - from) * m, (round - from + 1) * m);
    for (let i = 0; i < m; i++) row[i] = fit.theta[i]! * ELO_PER_NAT;
    shiftRatings(row, counts.models, anchor);
  }
  return ratings;
}

/** CIs from all rounds' ratings (ratings[round * m + model]). */
export function bootstrapResult(ratings: Float64Array, m: number, rounds: number): BootstrapResult {
  const ciLow = new Float64Array(m);
  const ciHigh = new Float64Array(m);
  const column = new Float64Array(rounds);
  for (let i = 0; i < m; i++) {
    for (let round = 0; round < rounds; round++) column[round] = ratings[round * m + i]!;
    column.sort();
    ciLow[i] = quantile(column, 0.025);
    ciHigh[i] = quantile(column, 0.975);
  }
  return { ciLow, ciHigh, ratings, rounds };
}

/** Quantile of sorted values with linear interpolation (numpy's default, pandas' DataFrame.quantile); NaN when empty. */
export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

interface Cells {
  pairOf: Int32Array;
  isWinI: Uint8Array;
  isTie: Uint8Array;
  weights: Float64Array;
  total: number;
}

/** Nonzero (pair, outcome) cells in a fixed order: per pair i < j, i's wins, j's wins, ties. */
function cells(pairs: Pairs, { models, wins, ties }: PairCounts): Cells {
  const m = models.length;
  const pairOf: number[] = [];
  const kind: number[] = [];
  const weights: number[] = [];
  for (let k = 0; k < pairs.i.length; k++) {
    const i = pairs.i[k]!;
    const j = pairs.j[k]!;
    const counts = [wins[i * m + j]!, wins[j * m + i]!, ties[i * m + j]!];
    counts.forEach((count, outcome) => {
      if (count === 0) return;
      pairOf.push(k);
      kind.push(outcome);
      weights.push(count);
    });
  }
  return {
    pairOf: Int32Array.from(pairOf),
    isWinI: Uint8Array.from(kind, (outcome) => (outcome === 0 ? 1 : 0)),
    isTie: Uint8Array.from(kind, (outcome) => (outcome === 2 ? 1 : 0)),
    weights: Float64Array.from(weights),
    total: weights.reduce((sum, w) => sum + w, 0),
  };
}

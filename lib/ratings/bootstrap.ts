import { multinomial } from "./binomial";
import { ELO_PER_NAT, fitBradleyTerry, shiftRatings, type BradleyTerryFit } from "./bradley-terry";
import { Rng } from "./rng";
import type { Anchor, PairCounts } from "./types";

export interface BootstrapOptions {
  rounds?: number;
  seed?: number;
  anchor?: Anchor;
  /** The fit on the real counts: each round starts from it (2–3 Newton steps instead of ~6). */
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
 * Bootstrap confidence intervals for Bradley–Terry ratings. Each round redraws all N
 * battles at once as a multinomial over the nonzero (pair, outcome) cells weighted
 * by their counts — the same distribution as resampling battles one by one, at the
 * cost of one binomial per cell — and refits. Seeded: same counts and seed, same CIs.
 */
export function bootstrap(counts: PairCounts, options: BootstrapOptions = {}): BootstrapResult {
  const { rounds = 100, seed = 42, anchor } = options;
  const m = counts.models.length;
  const { index, weights, total } = cells(counts);
  const fullFit = options.fullFit ?? fitBradleyTerry(counts);
  const rng = new Rng(seed);
  const drawn = new Float64Array(weights.length);
  const sample: PairCounts = { models: counts.models, wins: new Float64Array(m * m), ties: new Float64Array(m * m) };
  const ratings = new Float64Array(rounds * m);

  for (let round = 0; round < rounds; round++) {
    multinomial(rng, total, weights, drawn);
    sample.wins.fill(0);
    sample.ties.fill(0);
    for (let k = 0; k < index.length; k++) {
      const cell = index[k]!;
      // Tie cells are stored as negative (i * m + j) − 1 and mirrored to (j, i).
      if (cell >= 0) sample.wins[cell] = drawn[k]!;
      else {
        const flat = -cell - 1;
        const i = Math.floor(flat / m);
        const j = flat - i * m;
        sample.ties[flat] = drawn[k]!;
        sample.ties[j * m + i] = drawn[k]!;
      }
    }
    const fit = fitBradleyTerry(sample, { init: fullFit.theta });
    const row = ratings.subarray(round * m, (round + 1) * m);
    for (let i = 0; i < m; i++) row[i] = fit.theta[i]! * ELO_PER_NAT;
    shiftRatings(row, counts.models, anchor);
  }

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

/** Quantile of sorted values with linear interpolation (numpy's default); NaN when empty. */
export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Nonzero (pair, outcome) cells in a fixed order: per pair i < j, i's wins, j's wins, ties. */
function cells({ models, wins, ties }: PairCounts): { index: Int32Array; weights: Float64Array; total: number } {
  const m = models.length;
  const index: number[] = [];
  const weights: number[] = [];
  for (let i = 0; i < m; i++) {
    for (let j = i + 1; j < m; j++) {
      const entries: [number, number][] = [
        [i * m + j, wins[i * m + j]!],
        [j * m + i, wins[j * m + i]!],
        [-(i * m + j) - 1, ties[i * m + j]!],
      ];
      for (const [cell, weight] of entries) {
        if (weight > 0) {
          index.push(cell);
          weights.push(weight);
        }
      }
    }
  }
  const total = weights.reduce((sum, w) => sum + w, 0);
  return { index: Int32Array.from(index), weights: Float64Array.from(weights), total };
}

/**
 * Fast path: Poisson counts by table inversion, the one Poisson sampler of the ratings. Both
 * bootstraps redraw their battles as Multinomial(n, weights) through independent Poisson
 * counts (given their sum S, Poisson counts are Multinomial(S, weights); see
 * fast/multinomial.ts and UniformRedraw below), so each draws one count per cell or battle,
 * a million times a round: a table lookup instead of a loop of exp and divisions. The table
 * (poissonCdf) is one; the plain bootstrap looks it up with a 53-bit uniform per cell, the
 * style bootstrap with 12 bits per battle (two battles per random word). Justified by the
 * bootstrap share of bench/ratings-bench.ts's compute column (bench/results/ratings-*.json);
 * the counts are checked value by value against the binomial pmf in
 * test/unit/ratings/bootstrap.test.ts and style-control.test.ts.
 */
import type { Rng } from "../core/rng";
import { fillWords } from "./rng-blocks";

/** Resolution of a 53-bit uniform: a table ends where the Poisson tail left is below it. */
const TAIL = 2 ** -54;

/**
 * P(count ≤ x) for x = 0, 1, … of Poisson(mean), until the tail left is below a 53-bit
 * uniform's resolution; the last entry is set to 1, so every u < 1 stops in the table.
 */
export function poissonCdf(mean: number): number[] {
  const cdf: number[] = [];
  let pmf = Math.exp(-mean);
  let sum = 0;
  for (let x = 0; ; x++) {
    if (x > 0) pmf *= mean / x;
    sum += pmf;
    cdf.push(sum);
    // Past the mode the pmf falls at least as fast as a geometric series of ratio mean/(x+1).
    if (x + 1 > mean && (pmf * (x + 1)) / (x + 1 - mean) < TAIL) break;
  }
  cdf[cdf.length - 1] = 1;
  return cdf;
}

/**
 * Multinomial(n, 1/n for each of n battles) draws, exact, in one sequential pass: every battle
 * gets an independent Poisson(μ) count, μ = 1 − 4/√n, so the total S falls short of n with
 * near certainty; given S the counts are Multinomial(S, uniform), a draw with S > n is rejected
 * (which depends on S alone), and the n − S items left go to uniformly drawn battles: the sum is
 * Multinomial(n, uniform). A Poisson count is the inverse CDF (poissonCdf) of a 53-bit uniform
 * u, read from a guide table by u's top 12 bits; only the few slots a CDF step cuts need u's other 41.
 */
const GUIDE_BITS = 12;
const GUIDE_SLOTS = 1 << GUIDE_BITS;

export class UniformRedraw {
  /** cdf[k] = P(count ≤ k) (poissonCdf; for a mean below 1 it ends within 20 steps: a count fits a byte). */
  readonly cdf: Float64Array;
  /**
   * Guide table (Chen & Asau): guide[j] is the count of every u in [j/G, (j+1)/G), or −1 for
   * the few slots a CDF step cuts, which search cdf: one load per battle, no unpredictable branch.
   */
  readonly guide = new Int8Array(GUIDE_SLOTS);
  /** Scratch: random words a block at a time (fillWords), 12 bits for each of two battles per word. */
  readonly words = new Int32Array(2048);

  constructor(readonly n: number) {
    this.cdf = Float64Array.from(poissonCdf(Math.max(0, 1 - 4 / Math.sqrt(Math.max(n, 1)))));
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
    fillWords(rng, words, Math.min(words.length, (n - start + 1) >> 1));
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

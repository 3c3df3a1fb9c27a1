import { binomial, multinomial } from "./binomial";
import type { Rng } from "./rng";

/**
 * Cells whose Poisson mean would exceed this keep conditional binomials: their tables
 * would be long, and the table's start e^−μ underflows past μ ≈ 745.
 */
const TABLE_MAX_MEAN = 512;
/** Table entries (one double and one int each) the sampler may build: ≈ 12 MB. */
const TABLE_BUDGET = 1 << 20;
/** With fewer cells than this, conditional binomials cost no more than building tables. */
const MIN_TABLE_CELLS = 64;
/** How the Poisson draw is aimed; tests move these to reach the rejection and fallback paths. */
export interface SamplerTuning {
  /** Aim the Poisson total this many standard deviations below the items to place (default 4). */
  marginSd?: number;
  /** Rejected Poisson draws in a row before a draw falls back to conditional binomials (default 8). */
  maxRedraws?: number;
}
/** Resolution of a 53-bit uniform: a table ends where the Poisson tail left is below it. */
const TAIL = 2 ** -54;

/**
 * Draws Multinomial(total, weights / Σweights) many times over the same weights — the
 * bootstrap's redraw of every (pair, outcome) cell, once per round — about ten times
 * faster than one conditional binomial per cell, and exact:
 *
 * 1. Each cell gets an independent Poisson(λ·w/W) count with λ a few standard deviations
 *    below the items to place. Given their sum S, Poisson counts are Multinomial(S, w/W).
 *    A draw with S above the items to place is rejected; that depends on S alone, so the
 *    accepted counts are still Multinomial(S, w/W) given S.
 * 2. The remaining items (≈ 4√total) go to cells one by one, by Walker's alias method,
 *    which adds an independent Multinomial(rest, w/W): the sum is Multinomial(total, w/W).
 *
 * Every cell of the same weight has the same Poisson mean, fixed for all rounds, so each
 * distinct weight gets an inverse-CDF table with a guide table (Chen & Asau): one uniform
 * and one or two comparisons per cell. Cells with large means (or past the table budget)
 * form a second group: the group sizes are one binomial, the large group is drawn with
 * conditional binomials — exact by the multinomial's grouping property.
 */
export class MultinomialSampler {
  /** Small-group cells (index into weights) and each one's table. */
  private readonly small: Int32Array = new Int32Array(0);
  private readonly smallTable: Int32Array = new Int32Array(0);
  private readonly smallWeights: Float64Array = new Float64Array(0);
  private readonly smallOut: Float64Array = new Float64Array(0);
  /** Large-group cells, drawn with conditional binomials. */
  private readonly large: Int32Array = new Int32Array(0);
  private readonly largeWeights: Float64Array = new Float64Array(0);
  private readonly largeOut: Float64Array = new Float64Array(0);
  /** P(an item lands in the large group). */
  private readonly largeShare: number = 0;
  /** Tables: table t covers x = 0 … length[t]−1 at cdf[start[t] + x]; guide entries alike. */
  private readonly cdf: Float64Array = new Float64Array(0);
  private readonly guide: Int32Array = new Int32Array(0);
  private readonly tableStart: Int32Array = new Int32Array(0);
  private readonly tableLength: Int32Array = new Int32Array(0);
  /** Alias table over the small group, for the items the Poisson draw leaves. */
  private readonly aliasProb: Float64Array = new Float64Array(0);
  private readonly alias: Int32Array = new Int32Array(0);
  /** False: every draw is plain conditional binomials. */
  private readonly tabled: boolean = false;
  private readonly maxRedraws: number;
  /** Poisson draws rejected so far (for tests). */
  rejected = 0;

  constructor(
    readonly total: number,
    private readonly weights: Float64Array,
    tuning: SamplerTuning = {},
  ) {
    this.maxRedraws = tuning.maxRedraws ?? 8;
    let weightSum = 0;
    let positive = 0;
    for (let k = 0; k < weights.length; k++) {
      weightSum += weights[k]!;
      if (weights[k]! > 0) positive++;
    }
    if (positive < MIN_TABLE_CELLS || !(total > 0)) return;

    // Which cells get tables: smallest weights first, by an upper bound on their mean and length.
    const distinct = [...new Set(Array.from(weights).filter((w) => w > 0))].sort((x, y) => x - y);
    const tabledWeights = new Set<number>();
    let budget = TABLE_BUDGET;
    for (const w of distinct) {
      const mean = (total * w) / weightSum;
      const length = Math.ceil(mean + 12 * Math.sqrt(mean) + 60);
      if (mean > TABLE_MAX_MEAN || length > budget) break;
      tabledWeights.add(w);
      budget -= length;
    }
    const small: number[] = [];
    const large: number[] = [];
    let smallSum = 0;
    for (let k = 0; k < weights.length; k++) {
      const w = weights[k]!;
      if (w <= 0) continue;
      if (tabledWeights.has(w)) {
        small.push(k);
        smallSum += w;
      } else large.push(k);
    }
    if (small.length < MIN_TABLE_CELLS) return;

    const expected = (total * smallSum) / weightSum;
    const lambda = Math.max(0, expected - (tuning.marginSd ?? 4) * Math.sqrt(expected));
    const tableOf = new Map<number, number>();
    const cdf: number[] = [];
    const guide: number[] = [];
    const tableStart: number[] = [];
    const tableLength: number[] = [];
    for (const w of tabledWeights) {
      tableOf.set(w, tableStart.length);
      tableStart.push(cdf.length);
      const length = poissonTable((lambda * w) / smallSum, cdf, guide);
      tableLength.push(length);
    }

    this.small = Int32Array.from(small);
    this.smallTable = Int32Array.from(small, (k) => tableOf.get(weights[k]!)!);
    this.smallWeights = Float64Array.from(small, (k) => weights[k]!);
    this.smallOut = new Float64Array(small.length);
    this.large = Int32Array.from(large);
    this.largeWeights = Float64Array.from(large, (k) => weights[k]!);
    this.largeOut = new Float64Array(large.length);
    this.largeShare = large.length > 0 ? (weightSum - smallSum) / weightSum : 0;
    this.cdf = Float64Array.from(cdf);
    this.guide = Int32Array.from(guide);
    this.tableStart = Int32Array.from(tableStart);
    this.tableLength = Int32Array.from(tableLength);
    [this.aliasProb, this.alias] = aliasTable(this.smallWeights);
    this.tabled = true;
  }

  /** One draw into out (length = weights.length). */
  draw(rng: Rng, out: Float64Array): void {
    if (!this.tabled) return multinomial(rng, this.total, this.weights, out);
    out.fill(0);
    const itemsLarge = this.largeShare > 0 ? binomial(rng, this.total, this.largeShare) : 0;
    if (this.large.length > 0) {
      multinomial(rng, itemsLarge, this.largeWeights, this.largeOut);
      for (let j = 0; j < this.large.length; j++) out[this.large[j]!] = this.largeOut[j]!;
    }
    const items = this.total - itemsLarge;
    const counts = this.smallOut;
    for (let attempt = 0; ; attempt++) {
      if (attempt === this.maxRedraws) {
        multinomial(rng, items, this.smallWeights, counts);
        break;
      }
      const placed = this.poissonCounts(rng, counts);
      if (placed <= items) {
        this.place(rng, items - placed, counts);
        break;
      }
      this.rejected++;
    }
    for (let j = 0; j < this.small.length; j++) out[this.small[j]!] = counts[j]!;
  }

  /** Independent Poisson counts per small cell by table inversion; returns their sum. */
  private poissonCounts(rng: Rng, counts: Float64Array): number {
    const { cdf, guide, tableStart, tableLength, smallTable } = this;
    let sum = 0;
    for (let j = 0; j < counts.length; j++) {
      const t = smallTable[j]!;
      const start = tableStart[t]!;
      const u = rng.nextDouble();
      // guide[g] is the smallest x with cdf[x] > g / length, so the answer is at or after it.
      let x = guide[start + Math.floor(u * tableLength[t]!)]!;
      while (cdf[start + x]! <= u) x++;
      counts[j] = x;
      sum += x;
    }
    return sum;
  }

  /** Adds `items` draws from the small group's weights, by alias method. */
  private place(rng: Rng, items: number, counts: Float64Array): void {
    const { aliasProb, alias } = this;
    const n = aliasProb.length;
    for (let i = 0; i < items; i++) {
      const u = rng.nextDouble() * n;
      const slot = Math.floor(u);
      counts[u - slot < aliasProb[slot]! ? slot : alias[slot]!]++;
    }
  }

  /** For tests: whether the tables are in use, and the group sizes. */
  describe(): { tabled: boolean; smallCells: number; largeCells: number; tables: number } {
    return { tabled: this.tabled, smallCells: this.small.length, largeCells: this.large.length, tables: this.tableStart.length };
  }
}

/**
 * Appends the Poisson(mean) CDF, x = 0, 1, …, until the tail left is below a 53-bit
 * uniform's resolution (the last entry is set to 1, so every u < 1 stops in the table),
 * and its guide table of the same length. Returns the length.
 */
function poissonTable(mean: number, cdf: number[], guide: number[]): number {
  const start = cdf.length;
  let pmf = Math.exp(-mean);
  let sum = 0;
  for (let x = 0; ; x++) {
    if (x > 0) pmf *= mean / x;
    sum += pmf;
    cdf.push(sum);
    // Past the mode the pmf falls at least as fast as a geometric series of ratio mean/(x+1).
    if (x + 1 > mean && (pmf * (x + 1)) / (x + 1 - mean) < TAIL) break;
  }
  const length = cdf.length - start;
  cdf[cdf.length - 1] = 1;
  let x = 0;
  for (let g = 0; g < length; g++) {
    while (cdf[start + x]! <= g / length) x++;
    guide.push(x);
  }
  return length;
}

/** Walker's alias table (Vose's construction) for drawing index k with probability w_k / Σw. */
function aliasTable(weights: Float64Array): [Float64Array, Int32Array] {
  const n = weights.length;
  const prob = new Float64Array(n);
  const alias = new Int32Array(n);
  let sum = 0;
  for (let k = 0; k < n; k++) sum += weights[k]!;
  const scaled = Float64Array.from(weights, (w) => (w * n) / sum);
  const under: number[] = [];
  const over: number[] = [];
  scaled.forEach((s, k) => (s < 1 ? under : over).push(k));
  while (under.length > 0 && over.length > 0) {
    const lo = under.pop()!;
    const hi = over[over.length - 1]!;
    prob[lo] = scaled[lo]!;
    alias[lo] = hi;
    scaled[hi] = scaled[hi]! + scaled[lo]! - 1;
    if (scaled[hi]! < 1) {
      over.pop();
      under.push(hi);
    }
  }
  // What is left is 1 up to rounding.
  for (const k of [...under, ...over]) {
    prob[k] = 1;
    alias[k] = k;
  }
  return [prob, alias];
}

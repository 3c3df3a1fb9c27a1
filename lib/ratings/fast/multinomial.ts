/**
 * Fast path: the plain bootstrap's redraw of every (pair, outcome) cell, Multinomial(total,
 * weights), by Poisson tables (poisson.ts) and an alias fill instead of a binomial per cell.
 * core/bootstrap.ts draws each round with it. Part of the "compute s" column of
 * bench/ratings-bench.ts (bench/results/ratings-*.json: 100 rounds); the draws are checked
 * against conditional binomials, value by value, in test/unit/ratings/bootstrap.test.ts.
 */
import { binomial, multinomial } from "./binomial";
import type { Rng } from "../core/rng";
import { poissonCdf } from "./poisson";

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
  /** Null: too few cells for tables to pay, every draw is plain conditional binomials. */
  private readonly plan: TablePlan | null;
  private readonly maxRedraws: number;
  /** Poisson draws rejected so far (for tests). */
  rejected = 0;

  constructor(
    readonly total: number,
    private readonly weights: Float64Array,
    tuning: SamplerTuning = {},
  ) {
    this.maxRedraws = tuning.maxRedraws ?? 8;
    this.plan = planTables(total, weights, tuning.marginSd ?? 4);
  }

  /** One draw into out (length = weights.length). */
  draw(rng: Rng, out: Float64Array): void {
    const plan = this.plan;
    if (plan === null) return multinomial(rng, this.total, this.weights, out);
    out.fill(0);
    const itemsLarge = plan.largeShare > 0 ? binomial(rng, this.total, plan.largeShare) : 0;
    if (plan.large.length > 0) {
      multinomial(rng, itemsLarge, plan.largeWeights, plan.largeOut);
      for (let j = 0; j < plan.large.length; j++) out[plan.large[j]!] = plan.largeOut[j]!;
    }
    const items = this.total - itemsLarge;
    const counts = plan.smallOut;
    for (let attempt = 0; ; attempt++) {
      if (attempt === this.maxRedraws) {
        multinomial(rng, items, plan.smallWeights, counts);
        break;
      }
      const placed = poissonCounts(plan, rng, counts);
      if (placed <= items) {
        place(plan, rng, items - placed, counts);
        break;
      }
      this.rejected++;
    }
    for (let j = 0; j < plan.small.length; j++) out[plan.small[j]!] = counts[j]!;
  }

  /** For tests: whether the tables are in use, and the group sizes. */
  describe(): { tabled: boolean; smallCells: number; largeCells: number; tables: number } {
    const plan = this.plan;
    return { tabled: plan !== null, smallCells: plan?.small.length ?? 0, largeCells: plan?.large.length ?? 0, tables: plan?.tableStart.length ?? 0 };
  }
}

/** The sampler's tables, and the split of the cells into a tabled and a large group. */
interface TablePlan {
  /** Small-group cells (index into weights), each one's table, weight and scratch count. */
  small: Int32Array;
  smallTable: Int32Array;
  smallWeights: Float64Array;
  smallOut: Float64Array;
  /** Large-group cells, drawn with conditional binomials. */
  large: Int32Array;
  largeWeights: Float64Array;
  largeOut: Float64Array;
  /** P(an item lands in the large group). */
  largeShare: number;
  /** Table t covers x = 0 … tableLength[t]−1 at cdf[tableStart[t] + x]; its guide entries alike. */
  cdf: Float64Array;
  guide: Int32Array;
  tableStart: Int32Array;
  tableLength: Int32Array;
  /** Alias table over the small group, for the items the Poisson draw leaves. */
  aliasProb: Float64Array;
  alias: Int32Array;
}

function planTables(total: number, weights: Float64Array, marginSd: number): TablePlan | null {
  let weightSum = 0;
  let positive = 0;
  for (let k = 0; k < weights.length; k++) {
    weightSum += weights[k]!;
    if (weights[k]! > 0) positive++;
  }
  if (positive < MIN_TABLE_CELLS || !(total > 0)) return null;

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
  if (small.length < MIN_TABLE_CELLS) return null;

  const expected = (total * smallSum) / weightSum;
  const lambda = Math.max(0, expected - marginSd * Math.sqrt(expected));
  const tableOf = new Map<number, number>();
  const cdf: number[] = [];
  const guide: number[] = [];
  const tableStart: number[] = [];
  const tableLength: number[] = [];
  for (const w of tabledWeights) {
    tableOf.set(w, tableStart.length);
    tableStart.push(cdf.length);
    tableLength.push(poissonTable((lambda * w) / smallSum, cdf, guide));
  }
  const smallWeights = Float64Array.from(small, (k) => weights[k]!);
  const [aliasProb, alias] = aliasTable(smallWeights);
  return {
    small: Int32Array.from(small),
    smallTable: Int32Array.from(small, (k) => tableOf.get(weights[k]!)!),
    smallWeights,
    smallOut: new Float64Array(small.length),
    large: Int32Array.from(large),
    largeWeights: Float64Array.from(large, (k) => weights[k]!),
    largeOut: new Float64Array(large.length),
    largeShare: large.length > 0 ? (weightSum - smallSum) / weightSum : 0,
    cdf: Float64Array.from(cdf),
    guide: Int32Array.from(guide),
    tableStart: Int32Array.from(tableStart),
    tableLength: Int32Array.from(tableLength),
    aliasProb,
    alias,
  };
}

/** Independent Poisson counts per small cell by table inversion; returns their sum. */
function poissonCounts(plan: TablePlan, rng: Rng, counts: Float64Array): number {
  const { cdf, guide, tableStart, tableLength, smallTable } = plan;
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
function place(plan: TablePlan, rng: Rng, items: number, counts: Float64Array): void {
  const { aliasProb, alias } = plan;
  const n = aliasProb.length;
  for (let i = 0; i < items; i++) {
    const u = rng.nextDouble() * n;
    const slot = Math.floor(u);
    counts[u - slot < aliasProb[slot]! ? slot : alias[slot]!]++;
  }
}

/** Appends the Poisson(mean) table (poissonCdf) and its guide table of the same length; returns the length. */
function poissonTable(mean: number, cdf: number[], guide: number[]): number {
  const start = cdf.length;
  cdf.push(...poissonCdf(mean));
  const length = cdf.length - start;
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

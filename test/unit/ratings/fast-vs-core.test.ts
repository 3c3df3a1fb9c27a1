import { describe, expect, it } from "vitest";
import { aggregate, fitStyleControl, roundSeed, Rng, styleBootstrap, styleData, styleRound, styleSystem, toVoteTable, type StyleData, type StyleFit } from "@/lib/ratings";
import { fitBradleyTerry, fitPairs, pairsOf, type Pairs } from "@/lib/ratings/core/bradley-terry";
import { hessianFactor, refitFrom } from "@/lib/ratings/fast/bt-refit";
import { poissonCdf, redrawCounts, UniformRedraw } from "@/lib/ratings/fast/poisson";
import { passChunks, styleGradientPass, stylePass } from "@/lib/ratings/fast/style-passes";
import { addPenalty, styleLogit } from "@/lib/ratings/core/style-control";
import { planStyleRounds } from "@/lib/ratings/fast/style-rounds";
import { styledVotes, syntheticVotes } from "./synthetic";

/**
 * Each fast path of lib/ratings/fast against the plain maths of lib/ratings/core it replaces.
 * Sums taken in another order agree to rounding; fits to their tolerance. (The readers,
 * threads, block RNG and radix sort are pinned bit for bit in their own test files.)
 */

function styleCase(votes = 4000, seed = 8): { data: StyleData; fit: StyleFit } {
  const table = toVoteTable(styledVotes({ votes, strengths: [1000, 1100, 900, 1050, 980], lengthEffect: 1, seed }));
  const data = styleData(table, [...table.models].sort());
  return { data, fit: fitStyleControl(data) };
}

function point(fit: StyleFit): Float64Array {
  const x = new Float64Array(fit.theta.length + fit.beta.length);
  x.set(fit.theta);
  x.set(fit.beta, fit.theta.length);
  // Off the optimum, so the gradient is not ≈ 0.
  return x.map((v, i) => v + 0.05 * Math.sin(i + 1));
}

function largestGap(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let gap = 0;
  for (let i = 0; i < x.length; i++) gap = Math.max(gap, Math.abs(x[i]! - y[i]!));
  return gap;
}

/** The penalised value, gradient and Hessian from the fast pass (the penalty as core adds it). */
function fastSystem(data: StyleData, x: Float64Array, weights?: Float64Array) {
  const d = x.length;
  const grad = new Float64Array(d);
  const hess = new Float64Array(d * d);
  const plainGrad = new Float64Array(d);
  const plainHess = new Float64Array(d * d);
  const pass = { parts: new Float64Array(passChunks(d) * (1 + d + d * d)) };
  const logLikelihood = stylePass(data, x, weights, grad, hess, pass);
  // The penalty's terms, from core on the same point: plain minus its own unpenalised sums.
  const value = styleSystem(data, x, weights, plainGrad, plainHess);
  return { logLikelihood, grad, hess, value, plainGrad, plainHess };
}

describe("fast/style-passes.ts against core's styleSystem", () => {
  it.each([
    ["unweighted", false],
    ["weighted", true],
  ])("sums the same log-likelihood, gradient and Hessian (%s)", (_, weighted) => {
    const { data, fit } = styleCase();
    const x = point(fit);
    const weights = weighted ? Float64Array.from({ length: data.length }, (_, r) => (r * 7919) % 3) : undefined;
    const { logLikelihood, grad, hess, value, plainGrad, plainHess } = fastSystem(data, x, weights);
    const m = data.models.length;
    // Core's value, gradient and Hessian include the penalty; add it to the fast sums the same way.
    const reg = (i: number) => (i < m ? 0.5 / Math.LN10 ** 2 : 0.5);
    let penalty = 0;
    for (let i = 0; i < x.length; i++) {
      penalty += 0.5 * reg(i) * x[i]! * x[i]!;
      grad[i] -= reg(i) * x[i]!;
      hess[i * x.length + i] += reg(i);
    }
    expect(Math.abs(logLikelihood - penalty - value)).toBeLessThan(1e-9 * Math.abs(value));
    expect(largestGap(grad, plainGrad)).toBeLessThan(1e-9);
    expect(largestGap(hess, plainHess)).toBeLessThan(1e-9);
    expect(Math.abs(value)).toBeGreaterThan(100);
    expect(largestGap(plainGrad, new Float64Array(x.length))).toBeGreaterThan(1);
  });

  it("the chord steps' gradient pass is core's plain gradient, bit for bit", () => {
    const { data, fit } = styleCase();
    const x = point(fit);
    const weights = Float64Array.from({ length: data.length }, (_, r) => (r * 31) % 4);
    const fast = new Float64Array(x.length);
    styleGradientPass(data, x, weights, fast);
    addPenalty(x, data.models.length, fast);
    const plain = new Float64Array(x.length);
    expect(styleSystem(data, x, weights, plain)).toBe(0);
    expect(Array.from(fast)).toEqual(Array.from(plain));
    expect(largestGap(plain, new Float64Array(x.length))).toBeGreaterThan(1);
  });

  it("fitStyleControl reaches the same optimum on the fast passes as on core's plain ones", () => {
    const { data, fit } = styleCase(6000, 3);
    const plain = fitStyleControl(data, { pass: "plain", tolerance: 1e-9 });
    const fast = fitStyleControl(data, { tolerance: 1e-9 });
    expect([plain.converged, fast.converged]).toEqual([true, true]);
    expect(largestGap(fast.theta, plain.theta)).toBeLessThan(1e-10);
    expect(largestGap(fast.beta, plain.beta)).toBeLessThan(1e-10);
    // The default tolerance stops a step short: 1e-3 nats of step leave ≈ 1e-6.
    expect(largestGap(fit.theta, plain.theta)).toBeLessThan(1e-5);
  });
});

describe("fast/style-rounds.ts against core's styleRound", () => {
  it("a round plan's per-battle terms are y − σ(styleLogit), bit for bit", () => {
    const { data, fit } = styleCase();
    const plan = planStyleRounds(data, fit);
    for (let r = 0; r < data.length; r += 37) {
      const e = data.y[r]! - 1 / (1 + Math.exp(-styleLogit(data, plan.x, r, plan.x[data.a[r]!]! - plan.x[data.b[r]!]!)));
      expect(Array.from(plan.terms.subarray(r * 5, r * 5 + 5))).toEqual([e, ...Array.from(data.features.subarray(r * 4, r * 4 + 4), (f) => e * f)]);
    }
  });

  it("an exact bootstrap round (chord refit) is the plain refit of the same redraw", () => {
    const { data, fit } = styleCase(3000, 5);
    const seed = 12;
    const rounds = 6;
    const fast = styleBootstrap(data, fit, { rounds, seed, exact: true });
    const m = data.models.length;
    const redraw = new UniformRedraw(data.length);
    const counts = new Uint8Array(data.length);
    for (let round = 0; round < rounds; round++) {
      const extra = redrawCounts(redraw, new Rng(roundSeed(seed, round)), counts);
      const weights = Float64Array.from(counts);
      for (const r of extra) weights[r]!++;
      const plain = styleRound(data, fit, weights);
      // Rating points: the chord steps stop within 1e-7 nats of the optimum (≈ 4·10⁻⁵ points).
      expect(largestGap(fast.ratings.subarray(round * m, (round + 1) * m), plain)).toBeLessThan(1e-3);
    }
  });
});

describe("fast/bt-refit.ts against core's Newton fit", () => {
  it("a warm chord refit of resampled counts reaches the cold fit of the same counts", () => {
    const counts = aggregate(syntheticVotes({ votes: 8000, strengths: Array.from({ length: 12 }, (_, i) => 40 * i) }));
    const pairs = pairsOf(counts);
    const full = fitBradleyTerry(counts);
    const factor = hessianFactor(pairs, full);
    const rng = new Rng(4);
    for (let round = 0; round < 5; round++) {
      // Each pair's battles and wins moved by a few percent, as a bootstrap round moves them.
      const sample: Pairs = { i: pairs.i, j: pairs.j, winsI: new Float64Array(pairs.winsI), battles: new Float64Array(pairs.battles) };
      for (let k = 0; k < pairs.i.length; k++) {
        const extra = Math.floor(rng.nextDouble() * 0.1 * pairs.battles[k]!);
        sample.battles[k] += extra;
        sample.winsI[k] += Math.floor(rng.nextDouble() * (extra + 1));
      }
      const warm = refitFrom(sample, full, factor, { tolerance: 1e-10 });
      const cold = fitPairs(sample, counts.models, { tolerance: 1e-10 });
      expect(warm.converged).toBe(true);
      expect(largestGap(warm.theta, cold.theta)).toBeLessThan(1e-9);
      expect(largestGap(warm.theta, full.theta)).toBeGreaterThan(1e-4);
    }
  });
});

describe("fast/poisson.ts", () => {
  it.each([0, 0.3, 0.97, 5, 80, 500])("poissonCdf(%d) is the Poisson CDF until its tail is below 2⁻⁵⁴", (mean) => {
    const cdf = poissonCdf(mean);
    let sum = 0;
    for (let k = 0; k < cdf.length - 1; k++) {
      // pmf by its logarithm, independent of the table's running product.
      let logPmf = -mean + k * Math.log(mean || 1);
      for (let j = 2; j <= k; j++) logPmf -= Math.log(j);
      sum += mean === 0 ? (k === 0 ? 1 : 0) : Math.exp(logPmf);
      // The reference's own rounding grows with the mean (k·log mean ≈ 3,000 at 500).
      expect(Math.abs(cdf[k]! - sum)).toBeLessThan(1e-10);
    }
    expect(cdf[cdf.length - 1]).toBe(1);
    expect(1 - cdf[cdf.length - 2]!).toBeLessThan(1e-15);
  });

  it("the style bootstrap's redraw reads the same table", () => {
    const n = 5000;
    expect(Array.from(new UniformRedraw(n).cdf)).toEqual(poissonCdf(1 - 4 / Math.sqrt(n)));
  });
});

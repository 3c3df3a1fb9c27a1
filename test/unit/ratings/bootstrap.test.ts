import { describe, expect, it } from "vitest";
import { aggregate, binomial, bootstrap, deriveSeed, fitBradleyTerry, multinomial, MultinomialSampler, quantile, Rng, toEloScale, type SamplerTuning } from "@/lib/ratings";
import { fillWords } from "@/lib/ratings/fast/rng-blocks";
import { syntheticVotes } from "./synthetic";

describe("seeded PRNG", () => {
  it("repeats for a seed and differs between seeds", () => {
    const draw = (seed: number) => {
      const rng = new Rng(seed);
      return Array.from({ length: 5 }, () => rng.nextU32());
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
  });

  it("draws uniforms in [0, 1) with mean ½", () => {
    const rng = new Rng(1);
    let sum = 0;
    let outside = 0;
    for (let i = 0; i < 20_000; i++) {
      const u = rng.nextDouble();
      const f = rng.nextFloat();
      if (!(u >= 0 && u < 1 && f >= 0 && f < 1)) outside++;
      sum += u;
    }
    expect(outside).toBe(0);
    expect(sum / 20_000).toBeCloseTo(0.5, 2);
  });

  it("fills blocks with the same sequence as one draw at a time", () => {
    const one = new Rng(7);
    const block = new Rng(7);
    const words = new Int32Array(1000);
    fillWords(block, words, 999);
    expect(Array.from(words.subarray(0, 999), (w) => w >>> 0)).toEqual(Array.from({ length: 999 }, () => one.nextU32()));
    expect(words[999]).toBe(0);
    // It leaves the generator where the single draws do.
    expect(block.nextU32()).toBe(one.nextU32());
  });

  it("derives independent seeds per label", () => {
    expect(deriveSeed(42, "coding")).toBe(deriveSeed(42, "coding"));
    expect(deriveSeed(42, "coding")).not.toBe(deriveSeed(42, "writing"));
  });
});

describe("binomial sampling", () => {
  // (n, p) pairs that exercise inversion, BTPE, and p > ½ on both paths.
  const cases: [number, number][] = [
    [1_000_000, 2e-5],
    [1_000_000, 6.7e-5],
    [200, 0.5],
    [1_000, 0.97],
    [60, 0.9],
  ];
  it.each(cases)("n = %d, p = %d has the binomial mean and variance", (n, p) => {
    const rng = new Rng(9);
    const draws = 20_000;
    let sum = 0;
    let sumSq = 0;
    let invalid = 0;
    for (let i = 0; i < draws; i++) {
      const x = binomial(rng, n, p);
      if (!(Number.isInteger(x) && x >= 0 && x <= n)) invalid++;
      sum += x;
      sumSq += x * x;
    }
    expect(invalid).toBe(0);
    const mean = sum / draws;
    const variance = sumSq / draws - mean * mean;
    const expectedVariance = n * p * (1 - p);
    expect(Math.abs(mean - n * p)).toBeLessThan(5 * Math.sqrt(expectedVariance / draws));
    expect(variance / expectedVariance).toBeGreaterThan(0.9);
    expect(variance / expectedVariance).toBeLessThan(1.1);
  });

  it.each([
    [200, 0.5],
    [1_000_000, 2e-5],
  ])("n = %d, p = %d follows the binomial pmf value by value", (n, p) => {
    const draws = 50_000;
    const seen = new Map<number, number>();
    const rng = new Rng(11);
    for (let i = 0; i < draws; i++) {
      const x = binomial(rng, n, p);
      seen.set(x, (seen.get(x) ?? 0) + 1);
    }
    // pmf(x) = pmf(x − 1) · (n − x + 1)/x · p/(1 − p), from pmf(0) = (1 − p)^n.
    let pmf = Math.exp(n * Math.log1p(-p));
    for (let x = 0; x <= Math.min(n, 2 * n * p); x++) {
      if (x > 0) pmf *= ((n - x + 1) / x) * (p / (1 - p));
      const observed = (seen.get(x) ?? 0) / draws;
      expect(Math.abs(observed - pmf)).toBeLessThan(5 * Math.sqrt((pmf * (1 - pmf)) / draws) + 1e-4);
    }
  });

  it("handles the edges p = 0, p = 1, n = 0", () => {
    const rng = new Rng(1);
    expect(binomial(rng, 10, 0)).toBe(0);
    expect(binomial(rng, 10, 1)).toBe(10);
    expect(binomial(rng, 0, 0.5)).toBe(0);
  });

  it("multinomial keeps the total and draws in proportion to the weights", () => {
    const rng = new Rng(3);
    const weights = Float64Array.from([500, 0, 300, 200]);
    const out = new Float64Array(4);
    const mean = new Float64Array(4);
    const rounds = 2_000;
    let wrong = 0;
    for (let r = 0; r < rounds; r++) {
      multinomial(rng, 1000, weights, out);
      if (out.reduce((s, x) => s + x, 0) !== 1000 || out[1] !== 0) wrong++;
      out.forEach((x, k) => (mean[k] += x / rounds));
    }
    expect(wrong).toBe(0);
    // Within 4 standard errors of n·p_k.
    [500, 0, 300, 200].forEach((expected, k) => {
      const p = expected / 1000;
      expect(Math.abs(mean[k]! - expected)).toBeLessThanOrEqual(4 * Math.sqrt((1000 * p * (1 - p)) / rounds));
    });
  });
});

describe("multinomial sampler (Poisson tables, alias fill, large group)", () => {
  // 300 cells like a bootstrap's: many small counts (several sharing a weight), zeros, and a
  // few counts so large that they fall outside the tables into the conditional-binomial group.
  const weights = Float64Array.from({ length: 300 }, (_, k) => (k % 50 === 7 ? 0 : k % 97 === 3 ? 40_000 : 1 + ((k * 37) % 120)));
  const total = weights.reduce((sum, w) => sum + w, 0);
  const watched = [0, 1, 3, 5, 100]; // small, small, large, small, large
  watched.forEach((k) => expect(weights[k]).toBeGreaterThan(0));

  /** Per watched cell, mean and variance over `draws` draws; the small group's total's too. */
  function moments(sampler: MultinomialSampler, draws: number, seed: number) {
    const rng = new Rng(seed);
    const out = new Float64Array(weights.length);
    const sum = new Float64Array(watched.length + 1);
    const sumSq = new Float64Array(watched.length + 1);
    let broken = 0;
    for (let d = 0; d < draws; d++) {
      sampler.draw(rng, out);
      let all = 0;
      let smallGroup = 0;
      out.forEach((x, k) => {
        all += x;
        if (weights[k]! < 40_000) smallGroup += x;
        if (!Number.isInteger(x) || x < 0 || (weights[k] === 0 && x !== 0)) broken++;
      });
      if (all !== total) broken++;
      const values = [...watched.map((k) => out[k]!), smallGroup];
      values.forEach((x, i) => {
        sum[i] += x;
        sumSq[i] += x * x;
      });
    }
    const mean = Array.from(sum, (s) => s / draws);
    return { broken, mean, variance: Array.from(sumSq, (s, i) => s / draws - mean[i]! ** 2) };
  }

  const smallShare = weights.reduce((sum, w) => (w < 40_000 ? sum + w : sum), 0) / total;
  const expectedP = [...watched.map((k) => weights[k]! / total), smallShare];

  it.each<[string, SamplerTuning]>([
    ["default aim", {}],
    ["aimed too high: most Poisson draws rejected, some fall back", { marginSd: -3, maxRedraws: 2 }],
  ])("keeps the total, leaves empty cells empty and has multinomial moments (%s)", (_, tuning) => {
    const sampler = new MultinomialSampler(total, weights, tuning);
    const { tabled, smallCells, largeCells } = sampler.describe();
    expect(tabled).toBe(true);
    expect(largeCells).toBe(4);
    expect(smallCells).toBe(300 - 4 - 6);
    const draws = 4_000;
    const { broken, mean, variance } = moments(sampler, draws, 5);
    expect(broken).toBe(0);
    expectedP.forEach((p, i) => {
      const v = total * p * (1 - p);
      expect(Math.abs(mean[i]! - total * p)).toBeLessThan(5 * Math.sqrt(v / draws));
      // Var of a sample variance ≈ 2v²/draws for these near-normal counts: ±5 SE ≈ ±11 %.
      expect(variance[i]! / v).toBeGreaterThan(0.85);
      expect(variance[i]! / v).toBeLessThan(1.15);
    });
    if (tuning.marginSd !== undefined) expect(sampler.rejected).toBeGreaterThan(draws);
  });

  it("draws one cell value by value from its binomial pmf, as conditional binomials do", () => {
    const sampler = new MultinomialSampler(total, weights);
    const rng = new Rng(17);
    const out = new Float64Array(weights.length);
    const reference = new Float64Array(weights.length);
    const draws = 25_000;
    const seen = new Map<number, number>();
    const seenReference = new Map<number, number>();
    for (let d = 0; d < draws; d++) {
      sampler.draw(rng, out);
      multinomial(rng, total, weights, reference);
      seen.set(out[1]!, (seen.get(out[1]!) ?? 0) + 1);
      seenReference.set(reference[1]!, (seenReference.get(reference[1]!) ?? 0) + 1);
    }
    const p = weights[1]! / total;
    let pmf = Math.exp(total * Math.log1p(-p));
    for (let x = 0; x <= 3 * total * p; x++) {
      if (x > 0) pmf *= ((total - x + 1) / x) * (p / (1 - p));
      const band = 5 * Math.sqrt((pmf * (1 - pmf)) / draws) + 2e-4;
      expect(Math.abs((seen.get(x) ?? 0) / draws - pmf)).toBeLessThan(band);
      expect(Math.abs((seenReference.get(x) ?? 0) / draws - pmf)).toBeLessThan(band);
    }
  });

  it("repeats for a seed, and uses plain conditional binomials for a few cells", () => {
    const a = new Float64Array(weights.length);
    const b = new Float64Array(weights.length);
    new MultinomialSampler(total, weights).draw(new Rng(3), a);
    new MultinomialSampler(total, weights).draw(new Rng(3), b);
    expect(Array.from(a)).toEqual(Array.from(b));

    const few = Float64Array.from([500, 0, 300, 200]);
    const sampler = new MultinomialSampler(1000, few);
    expect(sampler.describe().tabled).toBe(false);
    const out = new Float64Array(4);
    const direct = new Float64Array(4);
    sampler.draw(new Rng(9), out);
    multinomial(new Rng(9), 1000, few, direct);
    expect(Array.from(out)).toEqual(Array.from(direct));
  });

  it("places every item when the total is tiny next to the number of cells", () => {
    const many = new Float64Array(500).fill(3);
    const sampler = new MultinomialSampler(7, many);
    const rng = new Rng(1);
    const out = new Float64Array(500);
    for (let d = 0; d < 200; d++) {
      sampler.draw(rng, out);
      expect(out.reduce((s, x) => s + x, 0)).toBe(7);
    }
  });
});

describe("bootstrap confidence intervals", () => {
  const counts = aggregate(syntheticVotes({ votes: 4_000, strengths: [0, 40, 80, 200, 400] }));
  const fit = fitBradleyTerry(counts);
  const bt = toEloScale(fit);

  it("is identical for the same seed", () => {
    const a = bootstrap(counts, { rounds: 50, seed: 42, fullFit: fit });
    const b = bootstrap(counts, { rounds: 50, seed: 42 });
    expect(Array.from(a.ciLow)).toEqual(Array.from(b.ciLow));
    expect(Array.from(a.ciHigh)).toEqual(Array.from(b.ciHigh));
  });

  it("moves only slightly with another seed, and brackets the fit", () => {
    const a = bootstrap(counts, { rounds: 100, seed: 1, fullFit: fit });
    const b = bootstrap(counts, { rounds: 100, seed: 2, fullFit: fit });
    expect(Array.from(a.ciLow)).not.toEqual(Array.from(b.ciLow));
    for (let i = 0; i < bt.length; i++) {
      const width = a.ciHigh[i]! - a.ciLow[i]!;
      expect(width).toBeGreaterThan(0);
      expect(Math.abs(a.ciLow[i]! - b.ciLow[i]!)).toBeLessThan(0.5 * width);
      expect(Math.abs(a.ciHigh[i]! - b.ciHigh[i]!)).toBeLessThan(0.5 * width);
      expect(a.ciLow[i]!).toBeLessThanOrEqual(bt[i]!);
      expect(a.ciHigh[i]!).toBeGreaterThanOrEqual(bt[i]!);
    }
  });

  it("pins the anchor model in every round", () => {
    const anchored = bootstrap(counts, { rounds: 20, anchor: { model: "m0", rating: 800 }, fullFit: fit });
    const i = counts.models.indexOf("m0");
    expect(anchored.ciLow[i]).toBeCloseTo(800, 9);
    expect(anchored.ciHigh[i]).toBeCloseTo(800, 9);
  });

  it("takes quantiles with linear interpolation", () => {
    expect(quantile(Float64Array.from([1, 2, 3, 4]), 0.5)).toBe(2.5);
    expect(quantile(Float64Array.from([10, 20]), 0.025)).toBeCloseTo(10.25, 12);
    expect(quantile(new Float64Array(0), 0.5)).toBeNaN();
  });
});

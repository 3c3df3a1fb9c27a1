import { describe, expect, it } from "vitest";
import { aggregate, fitBradleyTerry, toEloScale, type RatedVote } from "@/lib/ratings";
import { repeat, syntheticVotes } from "./synthetic";

function btRatings(votes: RatedVote[], anchor?: { model: string; rating: number }): Record<string, number> {
  const counts = aggregate(votes);
  const fit = fitBradleyTerry(counts);
  expect(fit.converged).toBe(true);
  const ratings = toEloScale(fit, anchor);
  return Object.fromEntries(counts.models.map((m, i) => [m, ratings[i]!]));
}

describe("Bradley–Terry", () => {
  it("two models: R_a − R_b = 400·log10(w_a / w_b), mean 1000", () => {
    const r = btRatings([...repeat(30, { modelA: "a", modelB: "b", winner: "A" }), ...repeat(10, { modelA: "b", modelB: "a", winner: "A" })]);
    expect(r.a! - r.b!).toBeCloseTo(400 * Math.log10(3), 4);
    expect((r.a! + r.b!) / 2).toBeCloseTo(1000, 9);
  });

  it("counts a tie (and 'both bad') as half a win for each side", () => {
    const r = btRatings([
      ...repeat(30, { modelA: "a", modelB: "b", winner: "A" }),
      ...repeat(10, { modelA: "a", modelB: "b", winner: "B" }),
      ...repeat(12, { modelA: "a", modelB: "b", winner: "tie" }),
      ...repeat(8, { modelA: "b", modelB: "a", winner: "both_bad" }),
    ]);
    expect(r.a! - r.b!).toBeCloseTo(400 * Math.log10(40 / 20), 4);
  });

  it("recovers exactly consistent strengths for three models", () => {
    const r = btRatings([
      ...repeat(200, { modelA: "a", modelB: "b", winner: "A" }),
      ...repeat(100, { modelA: "a", modelB: "b", winner: "B" }),
      ...repeat(200, { modelA: "b", modelB: "c", winner: "A" }),
      ...repeat(100, { modelA: "b", modelB: "c", winner: "B" }),
      ...repeat(400, { modelA: "c", modelB: "a", winner: "B" }),
      ...repeat(100, { modelA: "c", modelB: "a", winner: "A" }),
    ]);
    expect(r.a! - r.b!).toBeCloseTo(400 * Math.log10(2), 4);
    expect(r.b! - r.c!).toBeCloseTo(400 * Math.log10(2), 4);
  });

  it("an anchor shifts every rating by the same constant", () => {
    const votes = [
      ...repeat(7, { modelA: "a", modelB: "b", winner: "A" }),
      ...repeat(3, { modelA: "b", modelB: "c", winner: "A" }),
      ...repeat(5, { modelA: "c", modelB: "a", winner: "A" }),
      ...repeat(4, { modelA: "a", modelB: "c", winner: "tie" }),
    ];
    const free = btRatings(votes);
    const anchored = btRatings(votes, { model: "b", rating: 1500 });
    expect(anchored.b).toBeCloseTo(1500, 9);
    const shift = anchored.a! - free.a!;
    for (const m of ["a", "b", "c"]) expect(anchored[m]! - free[m]!).toBeCloseTo(shift, 9);
  });

  it("gives a model that wins every battle a finite, top rating (L2 regularisation)", () => {
    const r = btRatings([
      ...repeat(20, { modelA: "champ", modelB: "a", winner: "A" }),
      ...repeat(20, { modelA: "b", modelB: "champ", winner: "B" }),
      ...repeat(10, { modelA: "a", modelB: "b", winner: "A" }),
      ...repeat(10, { modelA: "a", modelB: "b", winner: "B" }),
    ]);
    expect(Number.isFinite(r.champ)).toBe(true);
    expect(r.champ!).toBeGreaterThan(r.a! + 1000);
    expect(r.a! - r.b!).toBeCloseTo(0, 6);
  });

  it("converges to the same ratings from a poor starting point", () => {
    const votes = [
      ...repeat(40, { modelA: "a", modelB: "b", winner: "A" }),
      ...repeat(10, { modelA: "a", modelB: "b", winner: "B" }),
      ...repeat(25, { modelA: "b", modelB: "c", winner: "A" }),
      ...repeat(25, { modelA: "b", modelB: "c", winner: "B" }),
    ];
    const counts = aggregate(votes);
    const plain = fitBradleyTerry(counts);
    const fromFar = fitBradleyTerry(counts, { init: Float64Array.from([-9, 4, 7]) });
    expect(fromFar.converged).toBe(true);
    plain.theta.forEach((t, i) => expect(fromFar.theta[i]).toBeCloseTo(t, 8));
  });

  it("recovers known strengths from seeded battles within sampling error", () => {
    const strengths = Array.from({ length: 20 }, (_, i) => 1000 + 25 * (i - 9.5));
    const r = btRatings(syntheticVotes({ votes: 40_000, strengths, tieRate: 0, seed: 3 }));
    // ~4,000 battles per model: a standard error near 6 points.
    strengths.forEach((truth, i) => expect(Math.abs(r[`m${i}`]! - truth)).toBeLessThan(25));
  });

  it("fits one model alone at mean 1000", () => {
    expect(toEloScale(fitBradleyTerry({ models: ["solo"], wins: new Float64Array(1), ties: new Float64Array(1) }))[0]).toBe(1000);
  });
});

import { describe, expect, it } from "vitest";
import { detectVoteAnomalies, type AnomalyVote } from "@/lib/admin/anomaly";
import { Rng } from "@/lib/ratings/core/rng";

// A crowd that prefers the stronger model of each pair 85 % of the time, plus one voter who
// always picks the weaker one: only that voter should be flagged.
function crowd(seed: number): AnomalyVote[] {
  const rng = new Rng(seed);
  const models = ["m1", "m2", "m3", "m4"];
  const votes: AnomalyVote[] = [];
  for (let voter = 0; voter < 30; voter++) {
    for (let i = 0; i < 12; i++) {
      const a = Math.floor(rng.nextFloat() * 4);
      let b = Math.floor(rng.nextFloat() * 3);
      if (b >= a) b++;
      const strongerIsA = a < b;
      const picksStronger = rng.nextFloat() < 0.85;
      votes.push({ voterKey: `v${voter}`, modelAId: models[a]!, modelBId: models[b]!, winner: picksStronger === strongerIsA ? "A" : "B" });
    }
  }
  return votes;
}

describe("detectVoteAnomalies", () => {
  it("flags a voter who always picks the weaker model", () => {
    const votes = crowd(1);
    for (let i = 0; i < 10; i++) {
      // m1 is the strongest, m4 the weakest; the contrarian puts m4 on side A and votes A.
      votes.push({ voterKey: "contrarian", modelAId: "m4", modelBId: i % 2 ? "m1" : "m2", winner: "A" });
    }
    const results = detectVoteAnomalies(votes);
    const contrarian = results.find((r) => r.voterKey === "contrarian")!;
    expect(contrarian.flagged).toBe(true);
    expect(contrarian.pValue).toBeLessThan(0.01);
    expect(results[0]!.voterKey).toBe("contrarian");
    // Honest voters are flagged about α of the time, not systematically.
    const honestFlagged = results.filter((r) => r.voterKey !== "contrarian" && r.flagged).length;
    expect(honestFlagged).toBeLessThanOrEqual(5);
  });

  it("is deterministic for a seed, and ignores side swaps", () => {
    const votes = crowd(2);
    expect(detectVoteAnomalies(votes, { seed: 7 })).toEqual(detectVoteAnomalies(votes, { seed: 7 }));
    const swapped = votes.map((v) => ({ ...v, modelAId: v.modelBId, modelBId: v.modelAId, winner: v.winner === "A" ? "B" as const : v.winner === "B" ? "A" as const : v.winner }));
    const a = detectVoteAnomalies(votes, { seed: 7 });
    const b = detectVoteAnomalies(swapped, { seed: 7 });
    expect(b.map((r) => [r.voterKey, r.statistic.toFixed(9)])).toEqual(a.map((r) => [r.voterKey, r.statistic.toFixed(9)]));
  });

  it("skips voters under minVotes and uses leave-one-voter-out probabilities", () => {
    const votes: AnomalyVote[] = [
      ...Array.from({ length: 4 }, () => ({ voterKey: "few", modelAId: "x", modelBId: "y", winner: "A" as const })),
      ...Array.from({ length: 5 }, () => ({ voterKey: "solo", modelAId: "x", modelBId: "z", winner: "B" as const })),
    ];
    const results = detectVoteAnomalies(votes);
    expect(results.map((r) => r.voterKey)).toEqual(["solo"]);
    // Nobody else voted on x–z, so each vote has p = 1/4 and nothing is unusual.
    expect(results[0]!.statistic).toBeCloseTo(5 * Math.log(4), 9);
    expect(results[0]!.flagged).toBe(false);
  });
});

import { describe, expect, it } from "vitest";
import { eloDelta, onlineElo } from "@/lib/ratings";
import { swapSides, syntheticVotes } from "./synthetic";

describe("online Elo", () => {
  it("moves 1000/1000 to 1002/998 after one win of A (K = 4)", () => {
    expect(onlineElo([{ modelA: "x", modelB: "y", winner: "A" }])).toEqual({ x: 1002, y: 998 });
  });

  it("moves 1000/1000 to 998/1002 after one win of B", () => {
    expect(onlineElo([{ modelA: "x", modelB: "y", winner: "B" }])).toEqual({ x: 998, y: 1002 });
  });

  it("leaves equal ratings unchanged after a tie or a 'both bad'", () => {
    expect(onlineElo([{ modelA: "x", modelB: "y", winner: "tie" }])).toEqual({ x: 1000, y: 1000 });
    expect(onlineElo([{ modelA: "x", modelB: "y", winner: "both_bad" }])).toEqual({ x: 1000, y: 1000 });
  });

  it("matches a hand computation for a second win: expected score 1/(1+10^(-4/400))", () => {
    const elo = onlineElo([
      { modelA: "x", modelB: "y", winner: "A" },
      { modelA: "x", modelB: "y", winner: "A" },
    ]);
    // 10^-0.01 = 0.9772372210, E = 0.5057562081, gain = 4 · (1 − E) = 1.9769751676
    expect(elo.x).toBeCloseTo(1003.9769751676, 8);
    expect(elo.y).toBeCloseTo(996.0230248324, 8);
  });

  it("a tie between unequal ratings moves the stronger model down", () => {
    expect(eloDelta(1100, 1000, 0.5)).toBeLessThan(0);
  });

  it("is deterministic, zero-sum, and follows vote order", () => {
    const votes = syntheticVotes({ votes: 500, strengths: [0, 50, 100, 150] });
    const first = onlineElo(votes);
    expect(onlineElo(votes)).toEqual(first);
    const total = Object.values(first).reduce((s, r) => s + r, 0);
    expect(total).toBeCloseTo(4000, 8);
    expect(onlineElo([...votes].reverse())).not.toEqual(first);
  });

  it("does not depend on which side a model sat", () => {
    const votes = syntheticVotes({ votes: 300, strengths: [0, 80, 160] });
    const straight = onlineElo(votes);
    const swapped = onlineElo(swapSides(votes));
    for (const model of Object.keys(straight)) expect(swapped[model]).toBeCloseTo(straight[model]!, 9);
  });
});

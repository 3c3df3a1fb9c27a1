import { describe, expect, it } from "vitest";
import { computeLeaderboard, type Leaderboard, type RatedVote } from "@/lib/ratings";
import { repeat, swapSides, syntheticVotes } from "./synthetic";

const strengths = [0, 60, 120, 180, 300];
const votes = syntheticVotes({ votes: 3_000, strengths, categories: ["coding", "writing", null] });

function byModel(leaderboard: { models: Leaderboard["models"] }) {
  return Object.fromEntries(leaderboard.models.map((m) => [m.model, m]));
}

describe("computeLeaderboard", () => {
  const board = computeLeaderboard(votes, { bootstrapRounds: 50 });

  it("orders models by rank, then rating, and ranks by non-overlapping CIs", () => {
    const ms = board.models;
    expect(ms.map((m) => m.model)).toEqual(["m4", "m3", "m2", "m1", "m0"]);
    for (let k = 1; k < ms.length; k++) {
      expect(ms[k]!.rank).toBeGreaterThanOrEqual(ms[k - 1]!.rank);
      if (ms[k]!.rank === ms[k - 1]!.rank) expect(ms[k]!.bt).toBeLessThanOrEqual(ms[k - 1]!.bt);
    }
    for (const m of ms) expect(m.rank).toBe(1 + ms.filter((o) => o.ciLow > m.ciHigh).length);
    expect(ms[0]!.rank).toBe(1);
  });

  it("reports Bradley–Terry with mean 1000 and sane counts", () => {
    const mean = board.models.reduce((s, m) => s + m.bt, 0) / board.models.length;
    expect(mean).toBeCloseTo(1000, 6);
    for (const m of board.models) {
      expect(m.battles).toBe(m.wins + m.losses + m.ties);
      expect(m.ciLow).toBeLessThanOrEqual(m.bt);
      expect(m.ciHigh).toBeGreaterThanOrEqual(m.bt);
    }
    expect(board.models.reduce((s, m) => s + m.battles, 0)).toBe(2 * votes.length);
    expect(board.voteCount).toBe(votes.length);
  });

  it("is the same when every vote's sides (and winner) are swapped", () => {
    const swapped = computeLeaderboard(swapSides(votes), { bootstrapRounds: 50 });
    expect(swapped.battleSetHash).toBe(board.battleSetHash);
    const before = byModel(board);
    for (const m of swapped.models) {
      const b = before[m.model]!;
      expect([m.bt, m.ciLow, m.ciHigh, m.rank, m.wins, m.losses, m.ties]).toEqual([b.bt, b.ciLow, b.ciHigh, b.rank, b.wins, b.losses, b.ties]);
      expect(m.elo).toBeCloseTo(b.elo, 9);
    }
  });

  it("is deterministic for a seed; another seed moves the CIs only slightly", () => {
    expect(computeLeaderboard(votes, { bootstrapRounds: 50 })).toEqual(board);
    // 100 rounds: the 2.5% quantile of fewer rounds rests on one or two draws.
    const base = computeLeaderboard(votes, { bootstrapRounds: 100 });
    const other = byModel(computeLeaderboard(votes, { bootstrapRounds: 100, seed: 7 }));
    for (const m of base.models) {
      const width = m.ciHigh - m.ciLow;
      expect(other[m.model]!.bt).toBe(m.bt);
      expect(Math.abs(other[m.model]!.ciLow - m.ciLow)).toBeLessThan(0.5 * width);
      expect(Math.abs(other[m.model]!.ciHigh - m.ciHigh)).toBeLessThan(0.5 * width);
    }
  });

  it("an anchor shifts every rating by one constant", () => {
    const anchored = byModel(computeLeaderboard(votes, { bootstrapRounds: 10, anchor: { model: "m2", rating: 1200 } }));
    expect(anchored.m2!.bt).toBeCloseTo(1200, 9);
    const shift = anchored.m0!.bt - byModel(board).m0!.bt;
    for (const m of board.models) expect(anchored[m.model]!.bt - m.bt).toBeCloseTo(shift, 8);
  });

  it("ranks first a model that wins every battle", () => {
    const champ = [
      ...votes,
      ...["m0", "m1", "m2", "m3", "m4"].flatMap((rival, i) => repeat(5, { modelA: i % 2 ? "champ" : rival, modelB: i % 2 ? rival : "champ", winner: i % 2 ? "A" : "B" })),
    ];
    const top = computeLeaderboard(champ, { bootstrapRounds: 30 }).models[0]!;
    expect(top.model).toBe("champ");
    expect(top.rank).toBe(1);
    expect(top.winRate).toBe(1);
    expect(Number.isFinite(top.bt)).toBe(true);
  });

  it("computes win rates without ties, null before any decisive battle", () => {
    const small = computeLeaderboard(
      [
        ...repeat(2, { modelA: "x", modelB: "y", winner: "A" }),
        { modelA: "y", modelB: "x", winner: "A" },
        ...repeat(5, { modelA: "x", modelB: "y", winner: "tie" }),
        ...repeat(2, { modelA: "z", modelB: "x", winner: "both_bad" }),
      ],
      { bootstrapRounds: 0 },
    );
    const m = byModel(small);
    expect(m.x).toMatchObject({ wins: 2, losses: 1, ties: 7, battles: 10 });
    expect(m.x!.winRate).toBeCloseTo(2 / 3, 12);
    expect(m.z!.winRate).toBeNull();
    expect(m.z!.ciLow).toBe(m.z!.bt);
  });

  it("builds consistent head-to-head matrices", () => {
    const { winRateMatrix: wr, battleMatrix: bm } = board;
    expect(wr.models).toEqual(board.models.map((m) => m.model));
    const n = wr.models.length;
    for (let i = 0; i < n; i++) {
      expect(wr.values[i]![i]).toBeNull();
      expect(bm.values[i]![i]).toBe(0);
      expect(bm.values[i]!.reduce((s: number, x) => s + (x ?? 0), 0)).toBe(board.models[i]!.battles);
      for (let j = 0; j < n; j++) {
        expect(bm.values[i]![j]).toBe(bm.values[j]![i]);
        const a = wr.values[i]![j];
        const b = wr.values[j]![i];
        if (i !== j && a !== null && b !== null) expect(a + b).toBeCloseTo(1, 12);
      }
    }
  });

  it("rates each category on its own votes", () => {
    expect(Object.keys(board.categories)).toEqual(["coding", "writing"]);
    const coding = votes.filter((v) => v.category === "coding");
    const scope = board.categories.coding!;
    expect(scope.voteCount).toBe(coding.length);
    expect(scope.models.reduce((s, m) => s + m.battles, 0)).toBe(2 * coding.length);
    // A category's rating run depends only on its own votes (and the run's seed).
    expect(computeLeaderboard(coding, { bootstrapRounds: 50 }).categories.coding).toEqual(scope);
  });

  it("lists in a category only the models that battled there", () => {
    const few: RatedVote[] = [
      { modelA: "a", modelB: "b", winner: "A", category: "math" },
      { modelA: "a", modelB: "c", winner: "B", category: null },
    ];
    const result = computeLeaderboard(few, { bootstrapRounds: 5 });
    expect(result.categories.math!.models.map((m) => m.model).sort()).toEqual(["a", "b"]);
    expect(result.models).toHaveLength(3);
  });

  it("hashes the battle set independently of vote order, and changes with the counts", () => {
    const reordered = computeLeaderboard([...votes].reverse(), { bootstrapRounds: 0 });
    expect(reordered.battleSetHash).toBe(board.battleSetHash);
    expect(reordered.battleSetHash).toMatch(/^[0-9a-f]{64}$/);
    const fewer = computeLeaderboard(votes.slice(1), { bootstrapRounds: 0 });
    expect(fewer.battleSetHash).not.toBe(board.battleSetHash);
  });

  it("rejects a vote with the same model on both sides, or an unknown winner", () => {
    expect(() => computeLeaderboard([{ modelA: "x", modelB: "x", winner: "A" }])).toThrow(/both sides/);
    const odd = { modelA: "x", modelB: "y", winner: "constructor" } as unknown as RatedVote;
    expect(() => computeLeaderboard([odd])).toThrow(/unknown winner "constructor"/);
  });
});

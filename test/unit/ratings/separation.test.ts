import { describe, expect, it } from "vitest";
import {
  aggregate,
  bootstrap,
  BOUND_TAIL,
  computeLeaderboard,
  ELO_PER_NAT,
  fitBradleyTerry,
  PROVISIONAL_BATTLES,
  separate,
  toEloScale,
  type Leaderboard,
  type RatedVote,
} from "@/lib/ratings";
import { repeat, syntheticVotes } from "./synthetic";

// Three models with ~1,300 battles each, all strongly connected.
const base = syntheticVotes({ votes: 2_000, strengths: [0, 100, 200] });

function byModel(board: { models: Leaderboard["models"] }) {
  return Object.fromEntries(board.models.map((m) => [m.model, m]));
}

/** The one-sided 97.5% limit, in rating points past an opponent, after a sweep of n battles. */
function sweepMargin(n: number): number {
  const p = BOUND_TAIL ** (1 / n);
  return ELO_PER_NAT * Math.log(p / (1 - p));
}

const wins = (count: number, winner: string, loser: string): RatedVote[] => repeat(count, { modelA: winner, modelB: loser, winner: "A" });

describe("models without a finite rating", () => {
  const plain = byModel(computeLeaderboard(base, { bootstrapRounds: 40 }));

  it("reports a model that won 50 of 50 as unbounded above, with an open interval, first by its bound", () => {
    const board = computeLeaderboard([...base, ...wins(50, "champ", "m1")], { bootstrapRounds: 40 });
    const champ = board.models[0]!;
    expect(champ.model).toBe("champ");
    expect(champ).toMatchObject({ bound: "upper-open", ciHigh: Infinity, rank: 1, wins: 50, losses: 0, provisional: false });
    // The rating at which 50 straight wins over m1 have probability 2.5%: 446 points above it.
    expect(sweepMargin(50)).toBeCloseTo(446.4, 1);
    expect(champ.bt).toBeCloseTo(plain.m1!.bt + sweepMargin(50), 6);
    expect(champ.ciLow).toBe(champ.bt);
    expect(board.models.slice(1).map((m) => [m.model, m.bound])).toEqual([
      ["m2", null],
      ["m1", null],
      ["m0", null],
    ]);
    expect(board.models.find((m) => m.model === "m2")!.rank).toBe(2); // champ's bound clears m2's interval
  });

  it("reports a model that never won as unbounded below, listed last", () => {
    const board = computeLeaderboard([...base, ...repeat(30, { modelA: "m0", modelB: "loser", winner: "A" })], { bootstrapRounds: 40 });
    const loser = board.models.at(-1)!;
    expect(loser).toMatchObject({ model: "loser", bound: "lower-open", ciLow: -Infinity, losses: 30 });
    expect(loser.bt).toBeCloseTo(plain.m0!.bt - sweepMargin(30), 6);
    expect(loser.ciHigh).toBe(loser.bt);
  });

  it("rates the others as if the extreme models' battles were not there", () => {
    const extreme = [...base, ...wins(50, "champ", "m1"), ...wins(30, "m0", "loser")];
    const board = byModel(computeLeaderboard(extreme, { bootstrapRounds: 40 }));
    for (const model of ["m0", "m1", "m2"]) {
      const { bt, ciLow, ciHigh, bound } = board[model]!;
      expect({ bt, ciLow, ciHigh, bound }).toEqual({ bt: plain[model]!.bt, ciLow: plain[model]!.ciLow, ciHigh: plain[model]!.ciHigh, bound: null });
    }
    // Both sides of the battle between them stay in the counts.
    expect(board.m1!.battles).toBe(plain.m1!.battles + 50);
  });

  it("counts one tie as half a loss: the model is rated, its interval finite", () => {
    const votes = [...base, ...wins(50, "champ", "m1"), { modelA: "m1", modelB: "champ", winner: "tie" } as RatedVote];
    const champ = byModel(computeLeaderboard(votes, { bootstrapRounds: 40 })).champ!;
    expect(champ.bound).toBeNull();
    expect(Number.isFinite(champ.ciHigh)).toBe(true);
    // The whole fit, as before: 50.5 of 51 against m1 alone puts it 400·log10(101) above.
    const counts = aggregate(votes);
    const fitted = toEloScale(fitBradleyTerry(counts));
    expect(champ.bt).toBe(fitted[counts.models.indexOf("champ")]!);
    expect(champ.bt - byModel(computeLeaderboard(votes, { bootstrapRounds: 0 })).m1!.bt).toBeCloseTo(400 * Math.log10(101), 2);
  });

  it("leaves every rating and interval bit for bit as before when no model is extreme", () => {
    const votes = syntheticVotes({ votes: 3_000, strengths: [0, 60, 120, 180, 300], seed: 11 });
    const board = computeLeaderboard(votes, { bootstrapRounds: 30 });
    const counts = aggregate(votes);
    const fit = fitBradleyTerry(counts);
    const fitted = toEloScale(fit);
    const ci = bootstrap(counts, { rounds: 30, seed: 42, fullFit: fit });
    expect(separate(counts).bounded).toEqual([0, 1, 2, 3, 4]);
    for (const m of board.models) {
      const i = counts.models.indexOf(m.model);
      expect([m.bt, m.ciLow, m.ciHigh, m.bound, m.provisional]).toEqual([fitted[i], ci.ciLow[i], ci.ciHigh[i], null, false]);
    }
  });

  it("marks models with fewer than PROVISIONAL_BATTLES battles provisional, keeping their interval", () => {
    expect(PROVISIONAL_BATTLES).toBe(20);
    const newbie: RatedVote[] = [...wins(2, "newbie", "m0"), ...wins(2, "m0", "newbie"), { modelA: "newbie", modelB: "m0", winner: "tie" }];
    const veteran = [...wins(10, "veteran", "m1"), ...wins(10, "m1", "veteran")];
    const board = byModel(computeLeaderboard([...base, ...newbie, ...veteran, ...wins(9, "rookie", "m2"), ...wins(10, "m2", "rookie")], { bootstrapRounds: 40 }));
    expect([board.newbie!.battles, board.newbie!.provisional, board.newbie!.bound]).toEqual([5, true, null]);
    expect(board.newbie!.ciLow).toBeLessThan(board.newbie!.ciHigh);
    expect(Number.isFinite(board.newbie!.ciLow) && Number.isFinite(board.newbie!.ciHigh)).toBe(true);
    expect([board.rookie!.battles, board.rookie!.provisional]).toEqual([19, true]);
    expect([board.veteran!.battles, board.veteran!.provisional]).toEqual([20, false]);
    expect(board.m0!.provisional).toBe(false);
  });

  it("moves a group that only won outside as one, keeping its inner gap", () => {
    const group = [...wins(6, "p", "q"), ...wins(4, "q", "p"), ...wins(20, "p", "m2"), ...wins(20, "q", "m0")];
    const board = computeLeaderboard([...base, ...group], { bootstrapRounds: 20 });
    expect(board.models.slice(0, 2).map((m) => [m.model, m.bound])).toEqual([
      ["p", "upper-open"],
      ["q", "upper-open"],
    ]);
    const { p, q, m2 } = byModel(board);
    expect(p!.bt - q!.bt).toBeCloseTo(400 * Math.log10(6 / 4), 3);
    expect(q!.bt).toBeGreaterThan(m2!.bt);
  });

  it("bounds a model that beat only an unbounded one by that one's bound", () => {
    const board = byModel(computeLeaderboard([...base, ...wins(30, "x", "m2"), ...wins(40, "champ", "x")], { bootstrapRounds: 20 }));
    expect(board.x!.bound).toBe("upper-open");
    expect(board.x!.bt).toBeCloseTo(board.m2!.bt + sweepMargin(30), 6);
    expect(board.champ!.bound).toBe("upper-open");
    expect(board.champ!.bt).toBeCloseTo(board.x!.bt + sweepMargin(40), 6);
  });

  it("gives no bound to a model that met only a never-winning one, and lists it last", () => {
    const board = computeLeaderboard([...base, ...wins(30, "m0", "loser"), ...wins(3, "beater", "loser")], { bootstrapRounds: 20 });
    const last = board.models.at(-1)!;
    expect(last).toMatchObject({ model: "beater", bound: "open", ciLow: -Infinity, ciHigh: Infinity, provisional: true });
    expect(last.bt).toBeNaN();
    expect(board.models.at(-2)).toMatchObject({ model: "loser", bound: "lower-open" });
  });

  it("separates each category on its own battles", () => {
    // champ never lost in coding, but lost once outside it.
    const coding = [...base, ...wins(25, "champ", "m1")].map((v) => ({ ...v, category: "coding" }));
    const board = computeLeaderboard([...coding, ...wins(1, "m2", "champ")], { bootstrapRounds: 10 });
    expect(byModel(board).champ!.bound).toBeNull();
    const scope = byModel(board.categories.coding!);
    expect(scope.champ).toMatchObject({ bound: "upper-open", ciHigh: Infinity, rank: 1 });
    expect(scope.champ!.bt).toBeCloseTo(scope.m1!.bt + sweepMargin(25), 6);
    expect(scope.m1!.bt).toBe(plain.m1!.bt);
  });

  it("shifts bounds with an anchor on a rated model, and ignores an anchor on an unbounded one", () => {
    const votes = [...base, ...wins(50, "champ", "m1")];
    const free = byModel(computeLeaderboard(votes, { bootstrapRounds: 10 }));
    const anchored = byModel(computeLeaderboard(votes, { bootstrapRounds: 10, anchor: { model: "m0", rating: 1500 } }));
    const shift = 1500 - free.m0!.bt;
    expect(anchored.m0!.bt).toBeCloseTo(1500, 9);
    expect(anchored.champ!.bt - free.champ!.bt).toBeCloseTo(shift, 6);
    const onChamp = byModel(computeLeaderboard(votes, { bootstrapRounds: 10, anchor: { model: "champ", rating: 1500 } }));
    expect(onChamp.m0!.bt).toBe(free.m0!.bt);
    expect(onChamp.champ!.bt).toBe(free.champ!.bt);
  });
});

describe("separate", () => {
  const counts = (votes: RatedVote[]) => aggregate(votes);

  it("finds a cycle of wins strongly connected: every rating finite", () => {
    const s = separate(counts([...wins(1, "a", "b"), ...wins(1, "b", "c"), ...wins(1, "c", "a")]));
    expect(s.bound).toEqual([null, null, null]);
    expect(s.groups).toHaveLength(1);
  });

  it("joins two models both ways by a tie", () => {
    expect(separate(counts([{ modelA: "a", modelB: "b", winner: "tie" }])).bound).toEqual([null, null]);
    expect(separate(counts([{ modelA: "a", modelB: "b", winner: "both_bad" }])).bound).toEqual([null, null]);
  });

  it("takes the group with most battles inside as reference and orders groups losers first", () => {
    // b and c battled each other most; a beat b; c beat d.
    const s = separate(counts([...wins(3, "b", "c"), ...wins(2, "c", "b"), ...wins(1, "a", "b"), ...wins(4, "c", "d")]));
    expect(s.bound).toEqual(["upper-open", null, null, "lower-open"]);
    expect(s.bounded).toEqual([1, 2]);
    expect(s.groups).toEqual([[3], [1, 2], [0]]);
  });

  it("keeps separate sets of models that each met only among themselves rated", () => {
    const s = separate(counts([...wins(2, "a", "b"), ...wins(1, "b", "a"), { modelA: "c", modelB: "d", winner: "tie" }]));
    expect(s.bound).toEqual([null, null, null, null]);
  });
});

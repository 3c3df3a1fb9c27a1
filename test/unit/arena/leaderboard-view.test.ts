import { describe, expect, it } from "vitest";
import { beatRelation, orderRanked, viewScope, type BoardRow, type ScopeView } from "@/lib/arena/leaderboard-view";
import { computeLeaderboard, Rng, type RatedVote, type ScopeLeaderboard } from "@/lib/ratings";
import { repeat, syntheticVotes } from "../ratings/synthetic";

// The leaderboard as listed: provisional models apart and unranked, the rest ordered so that a
// model that never lost is never below a model it beat. Runs go through JSON as stored.

const stored = (votes: RatedVote[], rounds = 40): ScopeLeaderboard => JSON.parse(JSON.stringify(computeLeaderboard(votes, { bootstrapRounds: rounds }))) as ScopeLeaderboard;
const won = (count: number, winner: string, loser: string): RatedVote[] => repeat(count, { modelA: winner, modelB: loser, winner: "A" });
const names = (rows: BoardRow[]) => rows.map((r) => r.model);

/** Every listing rule at once: ranks as the rule says and never falling down the list, and the moves honoured. */
function expectListingRules(view: ScopeView) {
  const { ranked } = view;
  const beat = beatRelation(view.winRateMatrix);
  ranked.forEach((r, i) => {
    const above = ranked.filter((o) => (o.ciLow ?? -Infinity) > (r.ciHigh ?? Infinity)).length;
    expect(r.rank).toBe(1 + above);
    if (i > 0) expect(r.rank!).toBeGreaterThanOrEqual(ranked[i - 1]!.rank!);
    if (r.bound === "upper-open") for (const o of ranked.slice(0, i)) expect(beat(r.model, o.model)).toBe(false);
    if (r.bound === "lower-open") for (const o of ranked.slice(i + 1)) if (o.rank === r.rank) expect(beat(o.model, r.model)).toBe(false);
  });
  expect(names(view.models)).toEqual([...names(ranked), ...names(view.provisional)]);
  expect(view.winRateMatrix.models).toEqual(names(view.models));
  expect(view.battleMatrix.models).toEqual(names(view.models));
}

describe("provisional models", () => {
  const base = syntheticVotes({ votes: 600, strengths: [0, 100, 200] });

  it("lists an undefeated model with one battle as provisional: no rank, above or below nobody", () => {
    const scope = stored([...base, ...won(1, "newbie", "m0")]);
    // The library alone would put it first with rank 1 (it never lost): that is what read as nonsense.
    expect(scope.models[0]).toMatchObject({ model: "newbie", bound: "upper-open", rank: 1 });
    const view = viewScope(scope, 20);
    expect(view.provisional).toEqual([expect.objectContaining({ model: "newbie", provisional: true, rank: null, battles: 1, wins: 1 })]);
    expect(names(view.ranked)).toEqual(["m2", "m1", "m0"]);
    expect(view.ranked.every((r) => !r.provisional && r.rank !== null)).toBe(true);
    // The ranked models' ranks count ranked models only: the newbie's bound clears nobody.
    expectListingRules(view);
    expect(view.models.at(-1)!.model).toBe("newbie");
  });

  it("after two votes (two unbeaten models and the one they beat) lists all three apart and ranks nobody", () => {
    const view = viewScope(stored([...won(1, "alpha", "gamma"), ...won(1, "beta", "gamma")]), 20);
    expect(view.ranked).toEqual([]);
    expect(view.provisional.map((r) => [r.model, r.rank, r.battles])).toEqual([
      ["gamma", null, 2],
      ["alpha", null, 1],
      ["beta", null, 1],
    ]);
  });

  it("follows the minimum: a model reaching it is ranked, one a battle short is not", () => {
    const votes = [...base, ...won(10, "m2", "rookie"), ...won(9, "rookie", "m0")];
    expect(names(viewScope(stored(votes), 20).provisional)).toEqual(["rookie"]);
    const ranked = viewScope(stored(votes), 19);
    expect(ranked.provisional).toEqual([]);
    expect(ranked.ranked.find((r) => r.model === "rookie")!.rank).toBeGreaterThanOrEqual(1);
    expectListingRules(ranked);
  });

  it("keeps a model with no rating at all (it met only models open the other way) out of the ranks", () => {
    // champ never lost, loser never won; middle lost only to champ and beat only loser: open both ways.
    const votes = [...base, ...won(25, "champ", "m1"), ...won(25, "champ", "middle"), ...won(25, "middle", "loser"), ...won(25, "m1", "loser")];
    const scope = stored(votes);
    expect(scope.models.find((r) => r.model === "middle")!.bound).toBe("open");
    const view = viewScope(scope, 20);
    expect(names(view.provisional)).toEqual(["middle"]);
    expectListingRules(view);
  });
});

describe("the order of ranked models", () => {
  const base = syntheticVotes({ votes: 900, strengths: [0, 150, 500] });

  it("puts a model that never lost above a model it beat even when its bound is lower", () => {
    // sweeper beat the strongest model once and the weakest 20 times: its bound (from the sweep)
    // lies below m2's rating, so by rating alone it would sit under a model it beat.
    const scope = stored([...base, ...won(1, "sweeper", "m2"), ...won(20, "sweeper", "m0")]);
    const sweeper = scope.models.find((r) => r.model === "sweeper")!;
    const m2 = scope.models.find((r) => r.model === "m2")!;
    expect(sweeper.bound).toBe("upper-open");
    expect(sweeper.bt!).toBeLessThan(m2.bt!);
    const view = viewScope(scope, 20);
    expect(names(view.ranked).indexOf("sweeper")).toBeLessThan(names(view.ranked).indexOf("m2"));
    expect(view.ranked.find((r) => r.model === "sweeper")!.rank).toBe(1);
    expectListingRules(view);
  });

  it("places a model that never lost by its bound when it beat nobody above it", () => {
    // 20 wins over the weakest only: its bound lies between m1's rating and m2's.
    const scope = stored([...base, ...won(20, "climber", "m0")]);
    const rating = (model: string) => scope.models.find((r) => r.model === model)!.bt!;
    expect(rating("climber")).toBeLessThan(rating("m2"));
    expect(rating("climber")).toBeGreaterThan(rating("m1"));
    const view = viewScope(scope, 20);
    expect(names(view.ranked)).toEqual(["m2", "climber", "m1", "m0"]);
    expectListingRules(view);
  });

  it("orders within a rank by rating, open sides by their bound, and a lift never splits a rank", () => {
    const row = (model: string, bt: number, ciLow: number | null, ciHigh: number | null, bound: BoardRow["bound"] = null): BoardRow =>
      ({ model, bt, ciLow, ciHigh, bound, elo: 1000, provisional: false, rank: null, winRate: null, battles: 30, wins: 0, losses: 0, ties: 0 });
    const rows = [row("a", 1200, 1150, 1250), row("b", 1100, 1050, 1150), row("c", 900, 880, 920), row("u", 1050, 1050, null, "upper-open"), row("l", 1180, null, 1180, "lower-open")];
    for (const r of rows) r.rank = 1 + rows.filter((o) => (o.ciLow ?? -Infinity) > (r.ciHigh ?? Infinity)).length;
    // c is rank 3 (a's and u's lower bounds clear it); by rating: a, l, b, u | c.
    expect(names(orderRanked(rows, () => false))).toEqual(["a", "l", "b", "u", "c"]);
    // u beat a: lifted above it; b beat l: l lowered below b (same rank).
    const beats = new Set(["u>a", "b>l"]);
    expect(names(orderRanked(rows, (x, y) => beats.has(`${x}>${y}`)))).toEqual(["u", "a", "b", "l", "c"]);
    // c beat l, but c is rank 3 and l rank 1: l stays with its rank.
    expect(names(orderRanked(rows, (x, y) => x === "c" && y === "l"))).toEqual(["a", "l", "b", "u", "c"]);
    // Never-lost models beating each other round: no order satisfies all; it still ends.
    const cycle = new Set(["u>a", "a>u"]);
    expect(orderRanked(rows, (x, y) => cycle.has(`${x}>${y}`))).toHaveLength(5);
  });

  it("holds the rules on random arenas with extreme and new models", () => {
    for (let seed = 1; seed <= 12; seed++) {
      const rng = new Rng(seed);
      const votes = syntheticVotes({ votes: 150 + Math.floor(rng.nextDouble() * 400), strengths: [0, 80, 160, 240, 320], seed });
      const extra: RatedVote[] = [];
      for (let k = 0; k < 4; k++) {
        const winner = `x${k}`;
        const n = 1 + Math.floor(rng.nextDouble() * 40);
        for (let i = 0; i < n; i++) {
          const other = `m${Math.floor(rng.nextDouble() * 5)}`;
          extra.push(k % 2 ? { modelA: other, modelB: winner, winner: "A" } : { modelA: winner, modelB: other, winner: "A" });
        }
      }
      const scope = stored([...votes, ...extra], 20);
      for (const min of [1, 20, 60]) {
        const view = viewScope(scope, min);
        expectListingRules(view);
        expect(view.provisional.every((r) => r.battles < min || r.bound === "open")).toBe(true);
        expect(view.models).toHaveLength(scope.models.length);
      }
    }
  });
});

describe("the head-to-head matrices", () => {
  it("follow the list's order, every cell kept", () => {
    const votes = [...syntheticVotes({ votes: 400, strengths: [0, 200] }), ...won(1, "newbie", "m0")];
    const board = JSON.parse(JSON.stringify(computeLeaderboard(votes, { bootstrapRounds: 0 }))) as ScopeLeaderboard;
    const view = viewScope(board, 20);
    const at = (matrix: ScopeView["winRateMatrix"], a: string, b: string) => matrix.values[matrix.models.indexOf(a)]![matrix.models.indexOf(b)];
    for (const a of board.winRateMatrix.models) {
      for (const b of board.winRateMatrix.models) {
        expect(at(view.winRateMatrix, a, b)).toBe(at(board.winRateMatrix, a, b));
        expect(at(view.battleMatrix, a, b)).toBe(at(board.battleMatrix, a, b));
      }
    }
    expect(at(view.winRateMatrix, "newbie", "m0")).toBe(1);
    expect(view.voteCount).toBe(401);
  });
});

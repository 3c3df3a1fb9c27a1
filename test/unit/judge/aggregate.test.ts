import { describe, expect, it } from "vitest";
import { combineOutcomes, summariseJudgeRun, type HumanVote, type Judgement } from "@/lib/judge/aggregate";
import { aggregate, computeLeaderboard, fitBradleyTerry } from "@/lib/ratings";

function j(questionId: string, modelX: string, modelY: string, order: "XY" | "YX", verdict: Judgement["verdict"], extra: Partial<Judgement> = {}): Judgement {
  return { questionId, category: "general", modelX, modelY, order, verdict, ...extra };
}

/**
 * Pair (m1, m2), X = m1:
 *   q1  XY A (m1 wins), YX A (m2 wins)   same letter → biased; models disagree → combined tie
 *   q2  XY A (m1),      YX B (m1)        consistent → m1
 *   q3  XY tie,         YX tie           consistent, not biased → tie
 *   q4  XY B (m2),      YX null          not comparable → m2 (the only parsed order)
 * Pair (m2, m3), given as X = m3, Y = m2:
 *   q1  XY B (m2),      YX B (m3)        biased → tie
 *   q2  XY null, then a rerun XY A (m3); YX null → m3
 */
const run: Judgement[] = [
  j("q1", "m1", "m2", "XY", "A"),
  j("q1", "m1", "m2", "YX", "A"),
  j("q2", "m1", "m2", "XY", "A"),
  j("q2", "m1", "m2", "YX", "B"),
  j("q3", "m1", "m2", "XY", "tie"),
  j("q3", "m1", "m2", "YX", "tie"),
  j("q4", "m1", "m2", "XY", "B"),
  j("q4", "m1", "m2", "YX", null),
  j("q1", "m3", "m2", "XY", "B"),
  j("q1", "m3", "m2", "YX", "B"),
  j("q2", "m3", "m2", "XY", null),
  j("q2", "m3", "m2", "YX", null),
  j("q2", "m3", "m2", "XY", "A"), // rerun replaces the earlier XY judgement
];

describe("summariseJudgeRun", () => {
  const summary = summariseJudgeRun(run);

  it("position bias per pair and overall", () => {
    expect(summary.positionBias).toEqual([
      { first: "m1", second: "m2", comparable: 3, biased: 1, consistent: 2, rate: 1 / 3 },
      { first: "m2", second: "m3", comparable: 1, biased: 1, consistent: 0, rate: 1 },
    ]);
    expect(summary.positionBiasOverall).toEqual({ comparable: 4, biased: 2, consistent: 2, rate: 0.5 });
  });

  it("unparseable rate counts judgements after reruns replace earlier ones", () => {
    // 8 + 4 judgements; q4 YX and q2 YX (m2/m3) are null.
    expect(summary.unparseable).toEqual({ count: 2, total: 12, rate: 2 / 12 });
  });

  it("battles name the winner by model, pair in name order", () => {
    expect(summary.battles).toEqual([
      { modelA: "m1", modelB: "m2", winner: "A", category: "general" }, // q1 XY: m1 shown as A won
      { modelA: "m1", modelB: "m2", winner: "B", category: "general" }, // q1 YX: m2 shown as A won
      { modelA: "m1", modelB: "m2", winner: "A", category: "general" },
      { modelA: "m1", modelB: "m2", winner: "A", category: "general" },
      { modelA: "m1", modelB: "m2", winner: "tie", category: "general" },
      { modelA: "m1", modelB: "m2", winner: "tie", category: "general" },
      { modelA: "m1", modelB: "m2", winner: "B", category: "general" },
      // Within a group, the judgement with the pair's first model shown as A comes first.
      { modelA: "m2", modelB: "m3", winner: "B", category: "general" }, // q1 YX: m2 shown as A, B won → m3
      { modelA: "m2", modelB: "m3", winner: "A", category: "general" }, // q1 XY: m3 shown as A, B won → m2
      { modelA: "m2", modelB: "m3", winner: "B", category: "general" }, // q2 rerun: m3 shown as A won
    ]);
    expect(summary.combinedBattles.map((b) => `${b.modelA}-${b.modelB}:${b.winner}`)).toEqual([
      "m1-m2:tie",
      "m1-m2:A",
      "m1-m2:tie",
      "m1-m2:B",
      "m2-m3:tie",
      "m2-m3:B",
    ]);
  });

  it("no human votes, no agreement", () => {
    expect(summary.agreement).toBeUndefined();
  });

  it("agreement with the majority human outcome, with and without ties", () => {
    const humans: HumanVote[] = [
      // q1 m1/m2: one vote each way and a tie → no majority (judge: tie)
      { questionId: "q1", modelA: "m1", modelB: "m2", winner: "A" },
      { questionId: "q1", modelA: "m2", modelB: "m1", winner: "A" },
      { questionId: "q1", modelA: "m1", modelB: "m2", winner: "tie" },
      // q2: m1 twice (once shown as B), both_bad once → m1 (judge: m1) agree
      { questionId: "q2", modelA: "m1", modelB: "m2", winner: "A" },
      { questionId: "q2", modelA: "m2", modelB: "m1", winner: "B" },
      { questionId: "q2", modelA: "m1", modelB: "m2", winner: "both_bad" },
      // q3: m1 (judge: tie) → disagree, with ties only
      { questionId: "q3", modelA: "m2", modelB: "m1", winner: "B" },
      // q4: both_bad twice, m2 once → tie (judge: m2) → disagree, with ties only
      { questionId: "q4", modelA: "m1", modelB: "m2", winner: "both_bad" },
      { questionId: "q4", modelA: "m1", modelB: "m2", winner: "both_bad" },
      { questionId: "q4", modelA: "m1", modelB: "m2", winner: "B" },
      // q1 m2/m3: m3 (judge: tie) → disagree, with ties only
      { questionId: "q1", modelA: "m2", modelB: "m3", winner: "B" },
      // q2 m2/m3: m2 (judge: m3) → disagree, decisive
      { questionId: "q2", modelA: "m3", modelB: "m2", winner: "B" },
      // q9 m1/m3: no judgement
      { questionId: "q9", modelA: "m1", modelB: "m3", winner: "A" },
    ];
    expect(summariseJudgeRun(run, humans).agreement).toEqual({
      withTies: { compared: 5, agreed: 1, rate: 0.2 },
      withoutTies: { compared: 2, agreed: 1, rate: 0.5 },
      noHumanMajority: 1,
      humanOnly: 1,
    });
  });

  it("empty input gives null rates", () => {
    const empty = summariseJudgeRun([], []);
    expect(empty.unparseable).toEqual({ count: 0, total: 0, rate: null });
    expect(empty.positionBiasOverall.rate).toBeNull();
    expect(empty.agreement?.withTies).toEqual({ compared: 0, agreed: 0, rate: null });
  });

  it("a model judged against itself is an error", () => {
    expect(() => summariseJudgeRun([j("q1", "m1", "m1", "XY", "A")])).toThrow(/against itself/);
  });
});

describe("combineOutcomes", () => {
  it("sign of (+1 first win, −1 second win, 0 tie)", () => {
    expect(combineOutcomes(["first", "first"])).toBe("first");
    expect(combineOutcomes(["first", "tie"])).toBe("first");
    expect(combineOutcomes(["tie", "second"])).toBe("second");
    expect(combineOutcomes(["first", "second"])).toBe("tie");
    expect(combineOutcomes(["tie", "tie"])).toBe("tie");
    expect(combineOutcomes([null, "second"])).toBe("second");
    expect(combineOutcomes([null, null])).toBeNull();
  });
});

describe("paired scores (score10)", () => {
  it("sums each model's scores per category and pair, by the side each model was shown on", () => {
    const scored: Judgement[] = [
      j("q1", "m1", "m2", "XY", "B", { category: "math", scores: [7, 9] }), // m1 7, m2 9
      j("q1", "m1", "m2", "YX", "A", { category: "math", scores: [8, 6] }), // m2 8, m1 6
      j("q2", "m1", "m2", "XY", "tie", { category: "math", scores: [10, 10] }),
      j("q2", "m1", "m2", "YX", null, { category: "math" }),
      j("q3", "m1", "m2", "XY", "A", { category: "writing", scores: [5, 3] }),
      j("q4", "m2", "m1", "XY", "B", { category: null, scores: [4, 9] }), // m2 shown as A: m2 4, m1 9
    ];
    expect(summariseJudgeRun(scored).pairedScores).toEqual([
      { category: null, first: "m1", second: "m2", totals: [9, 4], judgements: 1 },
      { category: "math", first: "m1", second: "m2", totals: [23, 27], judgements: 3 },
      { category: "writing", first: "m1", second: "m2", totals: [5, 3], judgements: 1 },
    ]);
  });
});

describe("battles feed the ratings code", () => {
  // Both orders per question, no position bias: m1 beats m2 15 of 20, m2 beats m3 15 of 20,
  // m1 beats m3 18 of 20, so the Bradley–Terry order must be m1 > m2 > m3.
  const judgements: Judgement[] = [];
  const plan: [string, string, number][] = [
    ["m1", "m2", 15],
    ["m2", "m3", 15],
    ["m1", "m3", 18],
  ];
  for (const [x, y, xWins] of plan) {
    for (let q = 0; q < 20; q++) {
      const xWon = q < xWins;
      judgements.push(j(`q${q}`, x, y, "XY", xWon ? "A" : "B"));
      judgements.push(j(`q${q}`, x, y, "YX", xWon ? "B" : "A"));
    }
  }
  const summary = summariseJudgeRun(judgements);

  it("fitBradleyTerry on the aggregated battles orders the models", () => {
    expect(summary.battles).toHaveLength(120);
    expect(summary.positionBiasOverall).toEqual({ comparable: 60, biased: 0, consistent: 60, rate: 0 });
    const fit = fitBradleyTerry(aggregate(summary.battles));
    const theta = Object.fromEntries(fit.models.map((m, i) => [m, fit.theta[i]!]));
    expect(fit.converged).toBe(true);
    expect(theta.m1!).toBeGreaterThan(theta.m2!);
    expect(theta.m2!).toBeGreaterThan(theta.m3!);
  });

  it("computeLeaderboard takes the battles as votes", () => {
    const board = computeLeaderboard(summary.combinedBattles, { bootstrapRounds: 20, seed: 1 });
    expect(board.voteCount).toBe(60);
    expect(board.models.map((m) => m.model)).toEqual(["m1", "m2", "m3"]);
    expect(board.categories.general?.voteCount).toBe(60);
  });
});

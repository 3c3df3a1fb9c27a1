/**
 * Pure aggregation of one judge run's verdicts (no database).
 *
 * Each question is judged once per order: "XY" shows modelX as A, "YX" shows modelY as A.
 * Judgements are grouped by (question, unordered model pair); when a group holds several
 * judgements with the same model shown as A (a rerun), the later one in the input replaces
 * the earlier.
 *
 *  positionBias   per pair: groups judged in both orders whose two verdicts are the same
 *                 LETTER (A/A or B/B) — the judge followed the position, not the model —
 *                 over groups with a parseable verdict in both orders. tie/tie and
 *                 A-then-tie are not position bias.
 *  unparseable    verdict null over all judgements (after rerun replacement).
 *  pairedScores   score10: per category and pair, the sum of each model's scores over all
 *                 judgements (both orders), as the Chinese-LLaMA-Alpaca evaluation totals them.
 *  battles        one battle per parseable judgement, winner named by model (modelA is always
 *                 the pair's first model by name, not the side shown), in the RatedVote shape
 *                 lib/ratings takes; combined: one battle per group from the combined verdict.
 *  agreement      the group's combined judge verdict against the majority human outcome.
 *
 * Combined judge verdict of a group: each parseable judgement gives +1 when the first model
 * wins, −1 when the second does, 0 for a tie; the sign of the sum decides. With both orders
 * this is: wins both, or wins one and the other is a tie → that model; orders disagree or
 * tie twice → tie. With one parseable order, that order decides.
 */

import { compareNames } from "@/lib/ratings/core/aggregate";
import type { RatedVote, Winner } from "@/lib/ratings/types";
import type { JudgeVerdict } from "./verdict";

export interface Judgement {
  questionId: string;
  category: string | null;
  modelX: string;
  modelY: string;
  /** Which model was shown as A: "XY" → modelX, "YX" → modelY. */
  order: "XY" | "YX";
  /** null: the judge output could not be parsed. */
  verdict: JudgeVerdict | null;
  /** score10: [A's score, B's score], by side as shown. */
  scores?: readonly [number, number];
}

export interface HumanVote {
  questionId: string;
  modelA: string;
  modelB: string;
  winner: Winner;
}

/** A model pair in name order: first < second. */
export interface ModelPair {
  first: string;
  second: string;
}

export type PairOutcome = "first" | "second" | "tie";

export interface PositionBias extends ModelPair {
  /** Groups with a parseable verdict in both orders. */
  comparable: number;
  /** Of those, the same letter both times (A/A or B/B). */
  biased: number;
  /** Of those, both verdicts name the same winning model or both are ties. */
  consistent: number;
  /** biased / comparable; null when nothing is comparable. */
  rate: number | null;
}

export interface PairedScore extends ModelPair {
  category: string | null;
  /** Sum of the first model's scores, and of the second's. */
  totals: [number, number];
  /** Judgements that contributed (parseable, with scores). */
  judgements: number;
}

export interface AgreementCounts {
  /** Groups with both a judge verdict and a human majority. */
  compared: number;
  agreed: number;
  rate: number | null;
}

export interface Agreement {
  /** All three outcomes (first wins, second wins, tie) must match. */
  withTies: AgreementCounts;
  /** Only groups where both the judge and the humans picked a winner. */
  withoutTies: AgreementCounts;
  /** Groups with a judge verdict and human votes, but no human outcome with strictly the most votes. */
  noHumanMajority: number;
  /** Groups with human votes but no parseable judge verdict. */
  humanOnly: number;
}

export interface JudgeRunSummary {
  /** Per pair, in name order. */
  positionBias: PositionBias[];
  /** All pairs together. */
  positionBiasOverall: Omit<PositionBias, "first" | "second">;
  unparseable: { count: number; total: number; rate: number | null };
  /** Sorted by category (null first), then pair. */
  pairedScores: PairedScore[];
  /** One per parseable judgement. */
  battles: RatedVote[];
  /** One per group with a combined verdict. */
  combinedBattles: RatedVote[];
  /** Present when human votes were given. */
  agreement?: Agreement;
}

interface Group extends ModelPair {
  questionId: string;
  category: string | null;
  /** Latest judgement with each model shown as A. */
  firstAsA?: Judgement;
  secondAsA?: Judgement;
}

const SEP = "\u0000";

function pairOf(x: string, y: string): ModelPair {
  return compareNames(x, y) <= 0 ? { first: x, second: y } : { first: y, second: x };
}

function shownAsA(j: Judgement): string {
  return j.order === "XY" ? j.modelX : j.modelY;
}

/** The judgement's outcome by model, relative to the pair's name order. */
function outcomeOf(j: Judgement, pair: ModelPair): PairOutcome | null {
  if (j.verdict === null) return null;
  if (j.verdict === "tie") return "tie";
  const winner = j.verdict === "A" ? shownAsA(j) : j.order === "XY" ? j.modelY : j.modelX;
  return winner === pair.first ? "first" : "second";
}

function toBattle(pair: ModelPair, outcome: PairOutcome, category: string | null): RatedVote {
  const winner: Winner = outcome === "first" ? "A" : outcome === "second" ? "B" : "tie";
  return { modelA: pair.first, modelB: pair.second, winner, category };
}

function ratio(part: number, whole: number): number | null {
  return whole === 0 ? null : part / whole;
}

function groupsOf(judgements: readonly Judgement[]): Map<string, Group> {
  const groups = new Map<string, Group>();
  for (const j of judgements) {
    if (j.modelX === j.modelY) throw new Error(`judgement on question ${j.questionId} pits ${j.modelX} against itself`);
    const pair = pairOf(j.modelX, j.modelY);
    const key = [j.questionId, pair.first, pair.second].join(SEP);
    let group = groups.get(key);
    if (!group) {
      group = { ...pair, questionId: j.questionId, category: j.category };
      groups.set(key, group);
    }
    if (shownAsA(j) === pair.first) group.firstAsA = j;
    else group.secondAsA = j;
  }
  return groups;
}

/** Combined verdict of a group's judgements (see the header); null when none parsed. */
export function combineOutcomes(outcomes: readonly (PairOutcome | null)[]): PairOutcome | null {
  let sum = 0;
  let any = false;
  for (const o of outcomes) {
    if (o === null) continue;
    any = true;
    sum += o === "first" ? 1 : o === "second" ? -1 : 0;
  }
  if (!any) return null;
  return sum > 0 ? "first" : sum < 0 ? "second" : "tie";
}

/** Majority human outcome per (question, pair); null where the top count is shared. */
export function humanMajorities(votes: readonly HumanVote[]): Map<string, PairOutcome | null> {
  const counts = new Map<string, [number, number, number]>();
  for (const v of votes) {
    if (v.modelA === v.modelB) continue;
    const pair = pairOf(v.modelA, v.modelB);
    const key = [v.questionId, pair.first, pair.second].join(SEP);
    const c = counts.get(key) ?? [0, 0, 0];
    if (v.winner === "A" || v.winner === "B") {
      const winner = v.winner === "A" ? v.modelA : v.modelB;
      c[winner === pair.first ? 0 : 1]++;
    } else {
      c[2]++; // tie and both_bad both mean "no winner", as in the ratings
    }
    counts.set(key, c);
  }
  const majorities = new Map<string, PairOutcome | null>();
  const names: PairOutcome[] = ["first", "second", "tie"];
  for (const [key, c] of counts) {
    const top = Math.max(...c);
    const leaders = names.filter((_, i) => c[i] === top);
    majorities.set(key, leaders.length === 1 ? leaders[0]! : null);
  }
  return majorities;
}

export function summariseJudgeRun(judgements: readonly Judgement[], humanVotes?: readonly HumanVote[]): JudgeRunSummary {
  const groups = groupsOf(judgements);

  const bias = new Map<string, PositionBias>();
  const scores = new Map<string, PairedScore>();
  const battles: RatedVote[] = [];
  const combinedBattles: RatedVote[] = [];
  const combined = new Map<string, PairOutcome | null>();
  let total = 0;
  let unparseable = 0;

  for (const [key, g] of groups) {
    const pairKey = g.first + SEP + g.second;
    let b = bias.get(pairKey);
    if (!b) {
      b = { first: g.first, second: g.second, comparable: 0, biased: 0, consistent: 0, rate: null };
      bias.set(pairKey, b);
    }
    const present = [g.firstAsA, g.secondAsA].filter((j): j is Judgement => j !== undefined);
    const outcomes = present.map((j) => outcomeOf(j, g));

    for (let i = 0; i < present.length; i++) {
      const j = present[i]!;
      total++;
      if (j.verdict === null) {
        unparseable++;
        continue;
      }
      battles.push(toBattle(g, outcomes[i]!, g.category));
      if (j.scores) {
        const scoreKey = (g.category ?? "") + SEP + (g.category === null ? "0" : "1") + SEP + pairKey;
        let s = scores.get(scoreKey);
        if (!s) {
          s = { category: g.category, first: g.first, second: g.second, totals: [0, 0], judgements: 0 };
          scores.set(scoreKey, s);
        }
        // scores[0] belongs to the model shown as A.
        const firstIsA = shownAsA(j) === g.first;
        s.totals[0] += firstIsA ? j.scores[0] : j.scores[1];
        s.totals[1] += firstIsA ? j.scores[1] : j.scores[0];
        s.judgements++;
      }
    }

    const x = g.firstAsA?.verdict ?? null;
    const y = g.secondAsA?.verdict ?? null;
    if (x !== null && y !== null) {
      b.comparable++;
      if (x === y && x !== "tie") b.biased++;
      if (outcomeOf(g.firstAsA!, g) === outcomeOf(g.secondAsA!, g)) b.consistent++;
    }

    const outcome = combineOutcomes(outcomes);
    combined.set(key, outcome);
    if (outcome !== null) combinedBattles.push(toBattle(g, outcome, g.category));
  }

  const positionBias = [...bias.values()]
    .map((b) => ({ ...b, rate: ratio(b.biased, b.comparable) }))
    .sort((p, q) => compareNames(p.first, q.first) || compareNames(p.second, q.second));
  const comparable = positionBias.reduce((n, b) => n + b.comparable, 0);
  const biased = positionBias.reduce((n, b) => n + b.biased, 0);
  const consistent = positionBias.reduce((n, b) => n + b.consistent, 0);

  const pairedScores = [...scores.values()].sort(
    (p, q) =>
      (p.category === null ? -1 : 0) - (q.category === null ? -1 : 0) ||
      compareNames(p.category ?? "", q.category ?? "") ||
      compareNames(p.first, q.first) ||
      compareNames(p.second, q.second),
  );

  const summary: JudgeRunSummary = {
    positionBias,
    positionBiasOverall: { comparable, biased, consistent, rate: ratio(biased, comparable) },
    unparseable: { count: unparseable, total, rate: ratio(unparseable, total) },
    pairedScores,
    battles,
    combinedBattles,
  };
  if (humanVotes) summary.agreement = agreementWith(combined, humanMajorities(humanVotes));
  return summary;
}

function agreementWith(judge: Map<string, PairOutcome | null>, humans: Map<string, PairOutcome | null>): Agreement {
  const withTies = { compared: 0, agreed: 0 };
  const withoutTies = { compared: 0, agreed: 0 };
  let noHumanMajority = 0;
  let humanOnly = 0;
  for (const [key, human] of humans) {
    const verdict = judge.get(key) ?? null;
    if (verdict === null) {
      humanOnly++;
      continue;
    }
    if (human === null) {
      noHumanMajority++;
      continue;
    }
    withTies.compared++;
    if (verdict === human) withTies.agreed++;
    if (verdict !== "tie" && human !== "tie") {
      withoutTies.compared++;
      if (verdict === human) withoutTies.agreed++;
    }
  }
  return {
    withTies: { ...withTies, rate: ratio(withTies.agreed, withTies.compared) },
    withoutTies: { ...withoutTies, rate: ratio(withoutTies.agreed, withoutTies.compared) },
    noHumanMajority,
    humanOnly,
  };
}

import { toVoteTable } from "../vote-table";
import { OUTCOME_A, OUTCOME_B, type RatedVote, type VoteTable } from "../types";

// Local copies of imported constants: a CommonJS transform turns each read into a getter call.
const A_WON = OUTCOME_A;
const B_WON = OUTCOME_B;

export const ELO_K = 4;
export const ELO_SCALE = 400;
export const ELO_BASE = 10;
export const ELO_INITIAL = 1000;

/**
 * Online Elo over the votes in the order given, as FastChat's compute_elo (elo_analysis.py:
 * K = 4, SCALE = 400, BASE = 10, INIT_RATING = 1000; a tie scores ½), so one vote moves a model at
 * most 4 points. Deterministic, and recomputable from scratch from the ordered votes.
 * Returns one rating per model id of the table; models outside `rows` keep 1000.
 */
export function onlineEloTable(table: VoteTable, rows?: Int32Array): Float64Array {
  const rating = new Float64Array(table.models.length).fill(ELO_INITIAL);
  const count = rows ? rows.length : table.length;
  for (let r = 0; r < count; r++) {
    const v = rows ? rows[r]! : r;
    const a = table.modelA[v]!;
    const b = table.modelB[v]!;
    const outcome = table.outcome[v]!;
    const scoreA = outcome === A_WON ? 1 : outcome === B_WON ? 0 : 0.5;
    const delta = eloDelta(rating[a]!, rating[b]!, scoreA);
    rating[a] += delta;
    rating[b] -= delta;
  }
  return rating;
}

const LN_BASE_PER_POINT = Math.log(ELO_BASE) / ELO_SCALE;

/** Points model A gains (and B loses) for a result scoring `scoreA` (1, 0.5 or 0): K·(S − E), E = 1 / (1 + 10^((rB − rA)/400)). */
export function eloDelta(ratingA: number, ratingB: number, scoreA: number): number {
  // 10^(d/400) as e^(d·ln10/400): same value to ~1 ulp, and exp is cheaper than pow.
  const expectedA = 1 / (1 + Math.exp((ratingB - ratingA) * LN_BASE_PER_POINT));
  return ELO_K * (scoreA - expectedA);
}

/** Online Elo per model name. */
export function onlineElo(votes: readonly RatedVote[]): Record<string, number> {
  const table = toVoteTable(votes);
  const rating = onlineEloTable(table);
  return Object.fromEntries(table.models.map((model, id) => [model, rating[id]!]));
}

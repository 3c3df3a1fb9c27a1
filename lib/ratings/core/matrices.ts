import type { ModelMatrix, PairCounts } from "../types";

/**
 * Head-to-head tables in the given model order, as FastChat's compute_pairwise_win_fraction
 * (elo_analysis.py: wins / (wins + losses), ties left out) and its battle-count pivot table (`order[k]` = index into counts.models).
 * Win rate excludes ties and is null for a pair without a decisive battle, so
 * wr[a][b] + wr[b][a] = 1 wherever both are defined.
 */
export function headToHead(counts: PairCounts, order: readonly number[]): { winRateMatrix: ModelMatrix; battleMatrix: ModelMatrix } {
  const m = counts.models.length;
  const models = order.map((i) => counts.models[i]!);
  const winRates: (number | null)[][] = [];
  const battles: (number | null)[][] = [];
  for (const i of order) {
    const rates: (number | null)[] = [];
    const totals: (number | null)[] = [];
    for (const j of order) {
      const won = counts.wins[i * m + j]!;
      const lost = counts.wins[j * m + i]!;
      rates.push(i !== j && won + lost > 0 ? won / (won + lost) : null);
      totals.push(i === j ? 0 : won + lost + counts.ties[i * m + j]!);
    }
    winRates.push(rates);
    battles.push(totals);
  }
  return { winRateMatrix: { models, values: winRates }, battleMatrix: { models, values: battles } };
}

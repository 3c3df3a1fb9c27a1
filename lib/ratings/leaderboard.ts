import { createHash } from "node:crypto";
import { aggregateTable, compareNames, hashCounts, rowsByCategory } from "./aggregate";
import { bootstrap } from "./bootstrap";
import { fitBradleyTerry, toEloScale } from "./bradley-terry";
import { onlineEloTable } from "./elo";
import { headToHead } from "./matrices";
import { deriveSeed } from "./rng";
import { toVoteTable } from "./vote-table";
import type { Anchor, Leaderboard, LeaderboardOptions, ModelRating, PairCounts, RatedVote, ScopeLeaderboard, VoteTable } from "./types";

export const DEFAULT_BOOTSTRAP_ROUNDS = 100;
export const DEFAULT_SEED = 42;

/**
 * A full rating run: online Elo, Bradley–Terry with bootstrap CIs, ranks, win rates and
 * head-to-head matrices, overall and per category. Takes valid, rated votes in vote order.
 */
export function computeLeaderboard(votes: readonly RatedVote[], options: LeaderboardOptions = {}): Leaderboard {
  return computeLeaderboardFromTable(toVoteTable(votes), options);
}

/**
 * Same as computeLeaderboard on a columnar vote table (what the file reader builds).
 * Each category has its own seed derived from the run's seed and the category name,
 * and uses the anchor only when the anchor model has battles there (else mean 1000).
 */
export function computeLeaderboardFromTable(table: VoteTable, options: LeaderboardOptions = {}): Leaderboard {
  const { bootstrapRounds = DEFAULT_BOOTSTRAP_ROUNDS, seed = DEFAULT_SEED, anchor } = options;
  if (!Number.isInteger(bootstrapRounds) || bootstrapRounds < 0) throw new Error("bootstrapRounds must be a whole number ≥ 0");
  const hash = createHash("sha256");

  const overallCounts = aggregateTable(table);
  hashCounts(hash, "", overallCounts);
  const overall = rateScope(table, undefined, overallCounts, bootstrapRounds, seed, anchor);

  const categories: Record<string, ScopeLeaderboard> = {};
  const rows = rowsByCategory(table);
  const order = table.categories.map((_, id) => id).sort((x, y) => compareNames(table.categories[x]!, table.categories[y]!));
  for (const id of order) {
    const name = table.categories[id]!;
    const counts = aggregateTable(table, rows[id]);
    hashCounts(hash, name, counts);
    const scopeAnchor = anchor && counts.models.includes(anchor.model) ? anchor : undefined;
    categories[name] = rateScope(table, rows[id], counts, bootstrapRounds, deriveSeed(seed, name), scopeAnchor);
  }
  return { ...overall, categories, battleSetHash: hash.digest("hex"), bootstrapRounds, seed };
}

function rateScope(
  table: VoteTable,
  rows: Int32Array | undefined,
  counts: PairCounts,
  rounds: number,
  seed: number,
  anchor: Anchor | undefined,
): ScopeLeaderboard {
  const m = counts.models.length;
  const fit = fitBradleyTerry(counts);
  const bt = toEloScale(fit, anchor);
  const ci = rounds > 0 ? bootstrap(counts, { rounds, seed, anchor, fullFit: fit }) : { ciLow: bt, ciHigh: bt };
  const elo = onlineEloTable(table, rows);
  const tableId = new Map(table.models.map((name, id) => [name, id]));

  const ratings: ModelRating[] = counts.models.map((model, i) => {
    let wins = 0;
    let losses = 0;
    let ties = 0;
    for (let j = 0; j < m; j++) {
      wins += counts.wins[i * m + j]!;
      losses += counts.wins[j * m + i]!;
      ties += counts.ties[i * m + j]!;
    }
    return {
      model,
      elo: elo[tableId.get(model)!]!,
      bt: bt[i]!,
      ciLow: ci.ciLow[i]!,
      ciHigh: ci.ciHigh[i]!,
      rank: 0,
      winRate: wins + losses > 0 ? wins / (wins + losses) : null,
      battles: wins + losses + ties,
      wins,
      losses,
      ties,
    };
  });
  for (const r of ratings) r.rank = 1 + ratings.filter((other) => other.ciLow > r.ciHigh).length;

  const order = ratings.map((_, i) => i).sort((x, y) => compareRatings(ratings[x]!, ratings[y]!));
  return {
    models: order.map((i) => ratings[i]!),
    ...headToHead(counts, order),
    voteCount: rows ? rows.length : table.length,
  };
}

function compareRatings(x: ModelRating, y: ModelRating): number {
  return x.rank - y.rank || y.bt - x.bt || compareNames(x.model, y.model);
}

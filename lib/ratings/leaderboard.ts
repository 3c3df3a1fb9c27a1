import { createHash } from "node:crypto";
import { aggregateTable, compareNames, hashCounts, rowsByCategory } from "./aggregate";
import { bootstrap, type BootstrapOptions, type BootstrapResult } from "./bootstrap";
import { fitBradleyTerry, toEloScale, type BradleyTerryFit } from "./bradley-terry";
import { bootstrapParallel } from "./parallel-bootstrap";
import type { ThreadOptions } from "./threads";
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
  const plan = planScopes(table, options);
  const cis = plan.scopes.map((scope) => (plan.rounds > 0 ? bootstrap(scope.counts, bootstrapOptions(plan, scope)) : undefined));
  return assemble(table, plan, cis);
}

/** computeLeaderboardFromTable with the bootstrap rounds split over threads; the same result, bit for bit. */
export async function computeLeaderboardParallel(table: VoteTable, options: LeaderboardOptions, parallel: ThreadOptions): Promise<Leaderboard> {
  const plan = planScopes(table, options);
  const cis: (BootstrapResult | undefined)[] = [];
  for (const scope of plan.scopes) cis.push(plan.rounds > 0 ? await bootstrapParallel(scope.counts, bootstrapOptions(plan, scope), parallel) : undefined);
  return assemble(table, plan, cis);
}

/** One leaderboard scope: all votes (name undefined) or one category's. */
interface Scope {
  name?: string;
  rows?: Int32Array;
  counts: PairCounts;
  fit: BradleyTerryFit;
  seed: number;
  anchor?: Anchor;
}

interface Plan {
  scopes: Scope[];
  battleSetHash: string;
  rounds: number;
  seed: number;
}

/** Counts and fits per scope (overall first, then categories by name): everything but the bootstrap. */
function planScopes(table: VoteTable, options: LeaderboardOptions): Plan {
  const { bootstrapRounds = DEFAULT_BOOTSTRAP_ROUNDS, seed = DEFAULT_SEED, anchor } = options;
  if (!Number.isInteger(bootstrapRounds) || bootstrapRounds < 0) throw new Error("bootstrapRounds must be a whole number ≥ 0");
  const hash = createHash("sha256");
  const overall = aggregateTable(table);
  hashCounts(hash, "", overall);
  const scopes: Scope[] = [{ counts: overall, fit: fitBradleyTerry(overall), seed, anchor }];
  const rows = rowsByCategory(table);
  const order = table.categories.map((_, id) => id).sort((x, y) => compareNames(table.categories[x]!, table.categories[y]!));
  for (const id of order) {
    const name = table.categories[id]!;
    const counts = aggregateTable(table, rows[id]);
    hashCounts(hash, name, counts);
    const scopeAnchor = anchor && counts.models.includes(anchor.model) ? anchor : undefined;
    scopes.push({ name, rows: rows[id], counts, fit: fitBradleyTerry(counts), seed: deriveSeed(seed, name), anchor: scopeAnchor });
  }
  return { scopes, battleSetHash: hash.digest("hex"), rounds: bootstrapRounds, seed };
}

function bootstrapOptions(plan: Plan, scope: Scope): BootstrapOptions {
  return { rounds: plan.rounds, seed: scope.seed, anchor: scope.anchor, fullFit: scope.fit };
}

function assemble(table: VoteTable, plan: Plan, cis: readonly (BootstrapResult | undefined)[]): Leaderboard {
  const [overall, ...rest] = plan.scopes.map((scope, k) => rateScope(table, scope, cis[k]));
  const categories: Record<string, ScopeLeaderboard> = {};
  rest.forEach((board, k) => (categories[plan.scopes[k + 1]!.name!] = board));
  return { ...overall!, categories, battleSetHash: plan.battleSetHash, bootstrapRounds: plan.rounds, seed: plan.seed };
}

function rateScope(table: VoteTable, { rows, counts, fit, anchor }: Scope, ci: BootstrapResult | undefined): ScopeLeaderboard {
  const m = counts.models.length;
  const bt = toEloScale(fit, anchor);
  const ciLow = ci?.ciLow ?? bt;
  const ciHigh = ci?.ciHigh ?? bt;
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
      ciLow: ciLow[i]!,
      ciHigh: ciHigh[i]!,
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

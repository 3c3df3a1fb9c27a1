import { createHash } from "node:crypto";
import { aggregateTable, compareNames, hashCounts, rowsByCategory } from "./aggregate";
import { bootstrap, type BootstrapOptions, type BootstrapResult } from "./bootstrap";
import { fitBradleyTerry, toEloScale, type BradleyTerryFit } from "./bradley-terry";
import { onlineEloTable } from "./elo";
import { headToHead } from "./matrices";
import { deriveSeed } from "./rng";
import { openBounds, separate, subCounts, type Separation } from "./separation";
import { styleBootstrap, type StyleBootstrapOptions, type StyleBootstrapResult } from "../fast/style-rounds";
import { fitStyleControl, styleData, styleRatings, type StyleData, type StyleFit } from "./style-control";
import { STYLE_FEATURES } from "../style-counts";
import { toVoteTable } from "../vote-table";
import type { Anchor, Leaderboard, LeaderboardOptions, ModelRating, PairCounts, RatedVote, ScopeLeaderboard, StyleControlView, VoteTable } from "../types";

export const DEFAULT_BOOTSTRAP_ROUNDS = 100;
export const DEFAULT_SEED = 42;
/** A model with fewer battles than this in a scope is marked provisional there. */
export const PROVISIONAL_BATTLES = 20;

/**
 * A full rating run: online Elo, Bradley–Terry with bootstrap CIs, ranks, win rates and
 * head-to-head matrices, overall and per category (FastChat's report_elo_analysis_results and
 * its leaderboard table). Takes valid, rated votes in vote order.
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
  if (options.styleControl) planStyles(table, plan);
  const cis = plan.scopes.map((scope) => (plan.rounds > 0 ? bootstrap(scope.rated, bootstrapOptions(plan, scope)) : undefined));
  return assemble(table, plan, cis, styleIntervals(plan));
}

/** Style-controlled bootstrap per scope (undefined without style control or rounds). */
function styleIntervals(plan: Plan): (StyleBootstrapResult | undefined)[] {
  return plan.scopes.map((scope) => (scope.style && plan.rounds > 0 ? styleBootstrap(scope.style.data, scope.style.fit, styleOptions(plan, scope)) : undefined));
}

export function styleOptions(plan: Plan, scope: Scope): StyleBootstrapOptions {
  return { rounds: plan.rounds, seed: scope.seed, anchor: scope.anchor };
}

/** One leaderboard scope: all votes (name undefined) or one category's. */
export interface Scope {
  name?: string;
  rows?: Int32Array;
  /** Every model of the scope: win/loss counts and matrices. */
  counts: PairCounts;
  separation: Separation;
  /** The battles among the models with a finite rating (counts itself when that is all of them): what the fit and bootstrap see. */
  rated: PairCounts;
  fit: BradleyTerryFit;
  seed: number;
  anchor?: Anchor;
  /** With style control: the rated models' battles with their style features, and the fit. */
  style?: { data: StyleData; fit: StyleFit };
}

export interface Plan {
  scopes: Scope[];
  battleSetHash: string;
  rounds: number;
  seed: number;
}

/** Counts and plain fits per scope (overall first, then categories by name): everything but the style fits and the bootstrap. */
export function planScopes(table: VoteTable, options: LeaderboardOptions): Plan {
  const { bootstrapRounds = DEFAULT_BOOTSTRAP_ROUNDS, seed = DEFAULT_SEED, anchor } = options;
  if (!Number.isInteger(bootstrapRounds) || bootstrapRounds < 0) throw new Error("bootstrapRounds must be a whole number ≥ 0");
  if (options.styleControl && !table.style) throw new Error("style control needs every vote's style counts");
  const hash = createHash("sha256");
  const overall = aggregateTable(table);
  hashCounts(hash, "", overall);
  const scopes: Scope[] = [planScope(overall, seed, anchor)];
  const rows = rowsByCategory(table);
  const order = table.categories.map((_, id) => id).sort((x, y) => compareNames(table.categories[x]!, table.categories[y]!));
  for (const id of order) {
    const name = table.categories[id]!;
    const counts = aggregateTable(table, rows[id]);
    hashCounts(hash, name, counts);
    scopes.push({ name, rows: rows[id], ...planScope(counts, deriveSeed(seed, name), anchor) });
  }
  return { scopes, battleSetHash: hash.digest("hex"), rounds: bootstrapRounds, seed };
}

/**
 * Fits a scope on its models with a finite rating only: a model that never lost (or never
 * won) would otherwise sit wherever the tiny L2 penalty puts it, and pull the mean with it.
 */
function planScope(counts: PairCounts, seed: number, anchor: Anchor | undefined): Scope {
  const separation = separate(counts);
  const all = separation.bounded.length === counts.models.length;
  const rated = all ? counts : subCounts(counts, separation.bounded);
  const scopeAnchor = anchor && rated.models.includes(anchor.model) ? anchor : undefined;
  return { counts, separation, rated, fit: fitBradleyTerry(rated), seed, anchor: scopeAnchor };
}

/** The fit of a style-controlled scope: fitStyleControl, or the same fit with a helper thread (fast/parallel-leaderboard.ts). */
export type StyleFitter = (data: StyleData, options: { init: Float64Array }) => StyleFit;

/** Adds every scope's style-controlled fit. */
export function planStyles(table: VoteTable, plan: Plan, fit: StyleFitter = fitStyleControl): void {
  for (const scope of plan.scopes) scope.style = planStyle(table, scope, fit);
}

/** The style-controlled fit over the same rated models, on their battles among themselves. */
function planStyle(table: VoteTable, scope: Scope, fit: StyleFitter): { data: StyleData; fit: StyleFit } {
  const data = styleData(table, scope.rated.models, scope.rows);
  // The plain fit (same models, same order) is a close start: style moves ratings by tens of points.
  const init = new Float64Array(data.models.length + STYLE_FEATURES.length);
  init.set(scope.fit.theta);
  return { data, fit: fit(data, { init }) };
}

export function bootstrapOptions(plan: Plan, scope: Scope): BootstrapOptions {
  return { rounds: plan.rounds, seed: scope.seed, anchor: scope.anchor, fullFit: scope.fit };
}

export function assemble(table: VoteTable, plan: Plan, cis: readonly (BootstrapResult | undefined)[], styleCis: readonly (StyleBootstrapResult | undefined)[]): Leaderboard {
  const [overall, ...rest] = plan.scopes.map((scope, k) => rateScope(table, scope, cis[k], styleCis[k]));
  const categories: Record<string, ScopeLeaderboard> = {};
  rest.forEach((board, k) => (categories[plan.scopes[k + 1]!.name!] = board));
  return { ...overall!, categories, battleSetHash: plan.battleSetHash, bootstrapRounds: plan.rounds, seed: plan.seed };
}

function rateScope(table: VoteTable, scope: Scope, ci: BootstrapResult | undefined, styleCi: StyleBootstrapResult | undefined): ScopeLeaderboard {
  const { rows, counts, separation, fit, anchor } = scope;
  const base = battleRecords(table, scope);
  const plain = ranked(base, scopeRatings(counts, separation, toEloScale(fit, anchor), ci));
  const board: ScopeLeaderboard = {
    models: plain.map((i) => base[i]!),
    ...headToHead(counts, plain),
    voteCount: rows ? rows.length : table.length,
  };
  if (scope.style) board.styleControl = styleView(scope, base, scope.style.fit, styleCi);
  return board;
}

/** The scope's records again (copies: Elo, counts and win rates are the same) with style-controlled ratings. */
function styleView(scope: Scope, base: readonly ModelRating[], fit: StyleFit, ci: StyleBootstrapResult | undefined): StyleControlView {
  const records = base.map((record) => ({ ...record }));
  const order = ranked(records, scopeRatings(scope.counts, scope.separation, styleRatings(fit, scope.anchor), ci));
  const coefficients = Object.fromEntries(STYLE_FEATURES.map((feature, k) => [feature, fit.beta[k]!])) as StyleControlView["coefficients"];
  const view: StyleControlView = { models: order.map((i) => records[i]!), coefficients, bootstrapMethod: ci ? ci.method : "none" };
  if (ci?.linearisationError !== undefined) view.linearisationError = ci.linearisationError;
  return view;
}

/** Per model of the scope: battles, wins, losses, ties and online Elo; ratings are set by ranked(). */
function battleRecords(table: VoteTable, { rows, counts, separation }: Scope): ModelRating[] {
  const m = counts.models.length;
  const elo = onlineEloTable(table, rows);
  const tableId = new Map(table.models.map((name, id) => [name, id]));
  return counts.models.map((model, i) => {
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
      bt: NaN,
      ciLow: NaN,
      ciHigh: NaN,
      bound: separation.bound[i]!,
      provisional: wins + losses + ties < PROVISIONAL_BATTLES,
      rank: 0,
      winRate: wins + losses > 0 ? wins / (wins + losses) : null,
      battles: wins + losses + ties,
      wins,
      losses,
      ties,
    };
  });
}

/** Sets bt, interval and rank of each record; returns the record indices in leaderboard order. */
function ranked(records: ModelRating[], { bt, ciLow, ciHigh }: { bt: Float64Array; ciLow: Float64Array; ciHigh: Float64Array }): number[] {
  records.forEach((r, i) => {
    r.bt = bt[i]!;
    r.ciLow = ciLow[i]!;
    r.ciHigh = ciHigh[i]!;
  });
  // FastChat's recompute_final_ranking (monitor.py): 1 + models whose 2.5% quantile beats this one's 97.5%.
  for (const r of records) r.rank = 1 + records.filter((other) => other.ciLow > r.ciHigh).length;
  return records.map((_, i) => i).sort((x, y) => compareRatings(records[x]!, records[y]!));
}

/**
 * Ratings, CIs and bounds per model of the scope from the fit over the rated models: a model
 * open above gets [bound, +∞), one open below (−∞, bound], one open both ways NaN in (−∞, +∞).
 */
function scopeRatings(counts: PairCounts, separation: Separation, fitted: Float64Array, ci: BootstrapResult | undefined) {
  const low = ci?.ciLow ?? fitted;
  const high = ci?.ciHigh ?? fitted;
  if (separation.bounded.length === counts.models.length) return { bt: fitted, ciLow: low, ciHigh: high };
  const m = counts.models.length;
  const bt = new Float64Array(m);
  separation.bounded.forEach((i, k) => (bt[i] = fitted[k]!));
  const bounds = openBounds(counts, separation, bt);
  const ciLow = new Float64Array(m);
  const ciHigh = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    const side = separation.bound[i];
    bt[i] = bounds[i]!;
    ciLow[i] = side === "upper-open" ? bt[i]! : -Infinity;
    ciHigh[i] = side === "lower-open" ? bt[i]! : Infinity;
  }
  separation.bounded.forEach((i, k) => {
    ciLow[i] = low[k]!;
    ciHigh[i] = high[k]!;
  });
  return { bt, ciLow, ciHigh };
}

/** Within a rank, the order of the maximum-likelihood ratings: open above (+∞), rated, open below (−∞). */
const SIDE_ORDER = { "upper-open": 0, null: 1, "lower-open": 2, open: 3 } as const;

function compareRatings(x: ModelRating, y: ModelRating): number {
  const open = Number(x.bound === "open") - Number(y.bound === "open");
  return open || x.rank - y.rank || SIDE_ORDER[x.bound ?? "null"] - SIDE_ORDER[y.bound ?? "null"] || y.bt - x.bt || compareNames(x.model, y.model);
}

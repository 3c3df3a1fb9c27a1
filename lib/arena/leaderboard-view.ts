import { compareNames, type ModelMatrix, type ModelRating, type ScopeLeaderboard, type StyleControlView } from "../ratings";
import { getRatingSettings } from "./rating-settings";
import { getLatestRatingRun, type StoredRatingRun } from "./ratings-job";

// What the leaderboard lists, assembled from a stored rating run at read time (the ratings
// maths stays in lib/ratings): models with too few battles apart as provisional, the rest
// ranked and ordered by a rule a voter can follow. The admin's minimum applies at once.

/**
 * One model's row as stored (JSON): ±∞ and NaN come back as null. `rank` is null for a
 * provisional model; for a ranked one it counts ranked models only.
 */
export type BoardRow = Omit<ModelRating, "bt" | "ciLow" | "ciHigh" | "rank"> & {
  bt: number | null;
  ciLow: number | null;
  ciHigh: number | null;
  rank: number | null;
};

export interface ScopeView {
  /** Ranked models in leaderboard order. */
  ranked: BoardRow[];
  /** Models below the minimum of battles (or with no rating at all), most battles first, rank null. */
  provisional: BoardRow[];
  /** ranked then provisional: the list older clients read. */
  models: BoardRow[];
  /** In the order of `models`. */
  winRateMatrix: ModelMatrix;
  battleMatrix: ModelMatrix;
  voteCount: number;
  styleControl?: Omit<StyleControlView, "models"> & { ranked: BoardRow[]; provisional: BoardRow[]; models: BoardRow[] };
}

export type LeaderboardView = Omit<StoredRatingRun, "leaderboard"> & {
  minBattlesRanked: number;
  leaderboard: ScopeView & { categories: Record<string, ScopeView>; battleSetHash: string; bootstrapRounds: number; seed: number };
};

const finite = (v: number | null | undefined): v is number => typeof v === "number" && Number.isFinite(v);

/** The latest rating run as the leaderboard lists it, under the current minimum of battles. */
export async function getLeaderboardView(): Promise<LeaderboardView | null> {
  const [run, settings] = await Promise.all([getLatestRatingRun(), getRatingSettings()]);
  return run ? viewRun(run, settings.minBattlesRanked) : null;
}

export function viewRun(run: StoredRatingRun, minBattlesRanked: number): LeaderboardView {
  const { categories, battleSetHash, bootstrapRounds, seed, ...overall } = run.leaderboard;
  return {
    ...run,
    minBattlesRanked,
    leaderboard: {
      ...viewScope(overall, minBattlesRanked),
      categories: Object.fromEntries(Object.entries(categories).map(([slug, scope]) => [slug, viewScope(scope, minBattlesRanked)])),
      battleSetHash,
      bootstrapRounds,
      seed,
    },
  };
}

/** One scope (overall or a category): both lists, the matrices in their order, the style view alike. */
export function viewScope(scope: ScopeLeaderboard, minBattlesRanked: number): ScopeView {
  const beat = beatRelation(scope.winRateMatrix);
  const plain = splitRows(scope.models as unknown as BoardRow[], minBattlesRanked, beat);
  const order = plain.models.map((r) => r.model);
  const view: ScopeView = {
    ...plain,
    winRateMatrix: reorder(scope.winRateMatrix, order),
    battleMatrix: reorder(scope.battleMatrix, order),
    voteCount: scope.voteCount,
  };
  if (scope.styleControl) {
    const { models, ...rest } = scope.styleControl;
    view.styleControl = { ...rest, ...splitRows(models as unknown as BoardRow[], minBattlesRanked, beat) };
  }
  return view;
}

/**
 * Provisional: fewer battles than the minimum, or no rating at all (a model that met only
 * models open the other way). The rest are ranked: rank = 1 + the ranked models whose
 * interval lies wholly above this one's, and ordered by orderRanked.
 */
export function splitRows(rows: readonly BoardRow[], minBattlesRanked: number, beat: Beat): { ranked: BoardRow[]; provisional: BoardRow[]; models: BoardRow[] } {
  const isProvisional = (r: BoardRow) => r.battles < minBattlesRanked || r.bound === "open" || !finite(r.bt);
  const provisional = rows.filter(isProvisional).map((r) => ({ ...r, provisional: true, rank: null }));
  provisional.sort((x, y) => y.battles - x.battles || y.wins - x.wins || compareNames(x.model, y.model));
  const ranked = rows.filter((r) => !isProvisional(r)).map((r) => ({ ...r, provisional: false }));
  const low = (r: BoardRow) => r.ciLow ?? -Infinity;
  const high = (r: BoardRow) => r.ciHigh ?? Infinity;
  for (const r of ranked) r.rank = 1 + ranked.filter((other) => low(other) > high(r)).length;
  const ordered = orderRanked(ranked, beat);
  return { ranked: ordered, provisional, models: [...ordered, ...provisional] };
}

/** beat(a, b): a won every decisive battle against b, and there was at least one. */
export type Beat = (a: string, b: string) => boolean;

export function beatRelation({ models, values }: ModelMatrix): Beat {
  const index = new Map(models.map((m, i) => [m, i]));
  return (a, b) => {
    const i = index.get(a);
    const j = index.get(b);
    return i !== undefined && j !== undefined && values[i]?.[j] === 1;
  };
}

/**
 * The order, in the words the page uses: by rank, then by rating, where "> x" (never lost)
 * and "< x" (never won) count as x; a model that never lost is then moved up to just above
 * any model it beat that stands higher, and one that never won moved down to just below any
 * model of its rank that beat it. A never-lost model has rank 1 and whatever it beat stands
 * at its rank or lower, so the moves keep ranks in order.
 */
export function orderRanked(rows: readonly BoardRow[], beat: Beat): BoardRow[] {
  const value = (r: BoardRow) => (finite(r.bt) ? r.bt : -Infinity);
  const list = [...rows].sort((x, y) => x.rank! - y.rank! || value(y) - value(x) || compareNames(x.model, y.model));
  // Each move only lifts a never-lost model or lowers a never-won one; a cycle of never-lost
  // models beating each other round has no order that satisfies all, so stop after n² moves.
  for (let moves = 0; moves < list.length * list.length; moves++) {
    const move = nextMove(list, beat);
    if (!move) break;
    const [row] = list.splice(move.from, 1);
    list.splice(move.to, 0, row!);
  }
  return list;
}

function nextMove(list: readonly BoardRow[], beat: Beat): { from: number; to: number } | null {
  for (let i = 0; i < list.length; i++) {
    const r = list[i]!;
    if (r.bound === "upper-open") {
      const above = list.findIndex((other, k) => k < i && beat(r.model, other.model));
      if (above >= 0) return { from: i, to: above };
    } else if (r.bound === "lower-open") {
      for (let k = list.length - 1; k > i; k--) {
        // Removing r shifts the winner up one: inserting at k puts r right after it.
        if (list[k]!.rank === r.rank && beat(list[k]!.model, r.model)) return { from: i, to: k };
      }
    }
  }
  return null;
}

function reorder(matrix: ModelMatrix, order: readonly string[]): ModelMatrix {
  const index = new Map(matrix.models.map((m, i) => [m, i]));
  const at = order.map((m) => index.get(m)!);
  return { models: [...order], values: at.map((i) => at.map((j) => matrix.values[i]?.[j] ?? null)) };
}

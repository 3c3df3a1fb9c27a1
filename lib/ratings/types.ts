/** The side that won a battle, as a voter chose it. "both_bad" rates like a tie. */
export type Winner = "A" | "B" | "tie" | "both_bad";

/** One valid, rated vote. Callers filter out invalidated votes before rating. */
export interface RatedVote {
  modelA: string;
  modelB: string;
  winner: Winner;
  category?: string | null;
  /** Vote time in ms; informational — online Elo follows the order of the list. */
  at?: number;
  /** Style counts of each side's answers, for style control: [tokens, headers, lists, bold]. */
  style?: { a: StyleCounts; b: StyleCounts };
}

/** One side's answer style, as FastChat's conv_metadata counts it: [tokens, markdown headers, list items, bold spans]. */
export type StyleCounts = readonly [number, number, number, number];

/** Outcome codes of the columnar vote table. */
export const OUTCOME_A = 0;
export const OUTCOME_B = 1;
export const OUTCOME_TIE = 2;
export const OUTCOME_BOTH_BAD = 3;

/**
 * Votes stored by column, with models and categories as integer ids, so a rating
 * run over a million votes allocates a few typed arrays instead of a million objects.
 */
export interface VoteTable {
  /** id → model name, in first-seen order. */
  models: string[];
  /** id → category name. */
  categories: string[];
  modelA: Int32Array;
  modelB: Int32Array;
  /** OUTCOME_* per vote. */
  outcome: Uint8Array;
  /** Category id per vote, −1 when the vote has none. */
  category: Int32Array;
  /**
   * Vote time per vote (the file format's time field, e.g. FastChat's tstamp), present only
   * when every vote has a number there. Rows stay in file order; sortByTime reorders them.
   */
  time?: Float64Array;
  /**
   * Style counts per vote, STYLE_COUNTS numbers each (see core/style-control.ts): side A's answer
   * tokens, markdown headers, list items and bold spans, then side B's. Present only when asked
   * for (style control) and every vote has them.
   */
  style?: Float64Array;
  length: number;
}

/**
 * Outcome counts between every ordered pair of models, the only input the
 * Bradley–Terry fit and the bootstrap need. Indices follow `models`, which is
 * sorted by name so the same battles always give the same layout.
 */
export interface PairCounts {
  models: string[];
  /** wins[i * n + j] = battles model i won against model j. */
  wins: Float64Array;
  /** ties[i * n + j] = ties[j * n + i] = ties and "both bad" between i and j. */
  ties: Float64Array;
}

/**
 * Which side of a Bradley–Terry rating has no finite limit (see core/separation.ts):
 * "upper-open" for a model that never lost to the rest of its scope (more exactly, that
 * nobody rated ever scored against, directly or through others), "lower-open" for one that
 * never won, "open" for one that met only models open the other way.
 */
export type RatingBound = "upper-open" | "lower-open" | "open";

export interface ModelRating {
  model: string;
  /** Online Elo after every vote, in vote order. */
  elo: number;
  /**
   * Bradley–Terry rating on the Elo scale. When `bound` is set, the bound that exists: the
   * one-sided 97.5% lower limit for "upper-open", the upper limit for "lower-open", NaN for "open".
   */
  bt: number;
  /** Bootstrap 2.5% quantile of the Bradley–Terry rating; bt for "upper-open", −Infinity for "lower-open" and "open". */
  ciLow: number;
  /** Bootstrap 97.5% quantile of the Bradley–Terry rating; bt for "lower-open", +Infinity for "upper-open" and "open". */
  ciHigh: number;
  /** null when the rating is finite; otherwise its open side, and bt is a bound. */
  bound: RatingBound | null;
  /** Fewer than PROVISIONAL_BATTLES battles in this scope: the interval is shown, but rests on little. */
  provisional: boolean;
  /** 1 + number of models whose ciLow exceeds this model's ciHigh. */
  rank: number;
  /** wins / (wins + losses); null before the first decisive battle. */
  winRate: number | null;
  battles: number;
  wins: number;
  losses: number;
  /** Ties and "both bad". */
  ties: number;
}

/** A square table over `models` (leaderboard order): values[i][j] is row i against column j. */
export interface ModelMatrix {
  models: string[];
  values: (number | null)[][];
}

export interface ScopeLeaderboard {
  /**
   * Sorted by rank; within a rank, models open above first, then rated ones, then ones open
   * below (the order of the maximum-likelihood ratings, ±∞ included), each by bt; "open" last.
   */
  models: ModelRating[];
  /** Share of decisive battles the row model won against the column model. */
  winRateMatrix: ModelMatrix;
  /** Battles between the two models, ties included. */
  battleMatrix: ModelMatrix;
  voteCount: number;
  /** The same scope rated with style control (LeaderboardOptions.styleControl). */
  styleControl?: StyleControlView;
}

/**
 * A scope's leaderboard at equal answer length and formatting (core/style-control.ts): the same
 * models and battle counts, with the style-controlled Bradley–Terry rating, interval, bound
 * and rank in bt, ciLow, ciHigh, bound and rank, sorted like ScopeLeaderboard.models.
 */
export interface StyleControlView {
  models: ModelRating[];
  /** Fitted log-odds per standard deviation of each style feature (length, headers, lists, bold). */
  coefficients: Record<"length" | "headers" | "lists" | "bold", number>;
  /** How the bootstrap rounds were fitted; "none" with no bootstrap rounds. */
  bootstrapMethod: "exact" | "linearised" | "none";
  /** Linearised rounds only: the largest gap (rating points) from an exact refit, on the rounds checked. */
  linearisationError?: number;
}

export interface Leaderboard extends ScopeLeaderboard {
  categories: Record<string, ScopeLeaderboard>;
  /** sha256 of the aggregated outcome counts, overall and per category. */
  battleSetHash: string;
  bootstrapRounds: number;
  seed: number;
}

export interface Anchor {
  model: string;
  rating: number;
}

export interface LeaderboardOptions {
  bootstrapRounds?: number;
  seed?: number;
  /**
   * Pin this model's Bradley–Terry rating; otherwise the mean rating of the models with a
   * finite rating is 1000. A scope where the anchor model has no battles, or no finite
   * rating, uses the mean instead.
   */
  anchor?: Anchor;
  /**
   * Also rate every scope with style control (needs VoteTable.style); the models that never
   * lost or never won are the same as without it, and keep the plain view's one-sided bounds
   * computed from the style-controlled ratings of the rest.
   */
  styleControl?: boolean;
}

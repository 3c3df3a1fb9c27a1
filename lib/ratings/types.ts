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
}

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

export interface ModelRating {
  model: string;
  /** Online Elo after every vote, in vote order. */
  elo: number;
  /** Bradley–Terry rating on the Elo scale. */
  bt: number;
  /** Bootstrap 2.5% quantile of the Bradley–Terry rating. */
  ciLow: number;
  /** Bootstrap 97.5% quantile of the Bradley–Terry rating. */
  ciHigh: number;
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
  /** Sorted by rank, then Bradley–Terry rating. */
  models: ModelRating[];
  /** Share of decisive battles the row model won against the column model. */
  winRateMatrix: ModelMatrix;
  /** Battles between the two models, ties included. */
  battleMatrix: ModelMatrix;
  voteCount: number;
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
  /** Pin this model's Bradley–Terry rating; otherwise the mean rating is 1000. */
  anchor?: Anchor;
}

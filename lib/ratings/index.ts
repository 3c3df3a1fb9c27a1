/**
 * Ratings: from an ordered list of valid votes to a leaderboard.
 *
 *   votes ─▶ VoteTable (columns of model ids) ─┬─▶ online Elo (vote order, K = 4; sortByTime first for FastChat's tstamp order)
 *                                              └─▶ PairCounts (one pass) ─▶ separation: models with a
 *                                                    finite rating vs ones that never lost / never won
 *                                                    ├─▶ Bradley–Terry (Newton) on the rated models
 *                                                    │     └─▶ bootstrap: multinomial redraw of the
 *                                                    │         (pair, outcome) cells (Poisson tables +
 *                                                    │         alias fill) + warm refits ─▶ CIs, ranks
 *                                                    └─▶ one-sided 97.5% bounds for the others
 *
 * Everything after aggregation costs O(models²) per fit, whatever the number of votes.
 * Per category the same run is repeated on that category's votes.
 */
export * from "./types";
export { aggregate, aggregateTable, compareNames, rowsByCategory } from "./aggregate";
export { binomial, multinomial } from "./binomial";
export { MultinomialSampler, type SamplerTuning } from "./multinomial";
export { bootstrap, bootstrapResult, bootstrapRounds, quantile, type BootstrapOptions, type BootstrapResult } from "./bootstrap";
export {
  fitBradleyTerry,
  toEloScale,
  ELO_PER_NAT,
  BT_MEAN_RATING,
  type BradleyTerryFit,
  type BradleyTerryOptions,
} from "./bradley-terry";
export { onlineElo, onlineEloTable, eloDelta, ELO_K, ELO_SCALE, ELO_BASE, ELO_INITIAL } from "./elo";
export { headToHead } from "./matrices";
export { Rng, deriveSeed, roundSeed } from "./rng";
export { toVoteTable, VoteTableBuilder } from "./vote-table";
export { sortByTime, timeOrder } from "./vote-order";
export {
  computeLeaderboard,
  computeLeaderboardFromTable,
  computeLeaderboardParallel,
  DEFAULT_BOOTSTRAP_ROUNDS,
  DEFAULT_SEED,
  PROVISIONAL_BATTLES,
} from "./leaderboard";
export { BOUND_TAIL, openBounds, separate, subCounts, type Separation } from "./separation";
export { readVoteFile, readVoteFilePart, VOTE_FILE_FORMATS, type VoteFileFormat } from "./vote-file";
export { mergeVoteTables, PARALLEL_MIN_BYTES, readVoteFileParallel, type ParallelReadOptions } from "./parallel-read";
export { bootstrapParallel, PARALLEL_MIN_BOOTSTRAP_WORK } from "./parallel-bootstrap";
export { styleBootstrapParallel, PARALLEL_MIN_STYLE_WORK } from "./parallel-style";
export { serveRatingsWorker } from "./serve-worker";
export type { ThreadOptions } from "./threads";
export { readJsonRecords, VoteFileError, type ByteRange } from "./json-records";
export { FASTCHAT_FORMAT, parseFastChatRow } from "./fastchat";
export { LEITAI_FORMAT, parseVoteObject, type VoteRowFormat, type VoteRowOptions } from "./vote-format";
export {
  fitStyleControl,
  styleBootstrap,
  styleData,
  styleRatings,
  EXACT_BOOTSTRAP_WORK,
  LINEARISATION_CHECK_ROUNDS,
  STYLE_REG,
  type StyleBootstrapResult,
  type StyleData,
  type StyleFit,
} from "./style-control";
export { FASTCHAT_STYLE_KEYS, LEITAI_STYLE_KEYS, STYLE_COUNTS, STYLE_FEATURES, styleCount, styleOf, type StyleFeature } from "./style-counts";

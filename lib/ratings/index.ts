/**
 * Ratings: from an ordered list of valid votes to a leaderboard. The maths is in core/, written
 * plainly with the FastChat function each part matches; fast/ holds what makes it fast (byte
 * readers, table samplers, threads, unrolled passes), each file pinned to core by tests. The
 * vote table and file formats are here beside this file.
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
export { aggregate, aggregateTable, compareNames, rowsByCategory } from "./core/aggregate";
export { binomial, multinomial } from "./fast/binomial";
export { MultinomialSampler, type SamplerTuning } from "./fast/multinomial";
export { bootstrap, bootstrapResult, bootstrapRounds, quantile, type BootstrapOptions, type BootstrapResult } from "./core/bootstrap";
export {
  fitBradleyTerry,
  toEloScale,
  ELO_PER_NAT,
  BT_MEAN_RATING,
  type BradleyTerryFit,
  type BradleyTerryOptions,
} from "./core/bradley-terry";
export { onlineElo, onlineEloTable, eloDelta, ELO_K, ELO_SCALE, ELO_BASE, ELO_INITIAL } from "./core/elo";
export { headToHead } from "./core/matrices";
export { Rng, deriveSeed, roundSeed } from "./core/rng";
export { toVoteTable, VoteTableBuilder } from "./vote-table";
export { sortByTime, timeOrder } from "./fast/vote-order";
export { computeLeaderboardParallel } from "./fast/parallel-leaderboard";
export {
  computeLeaderboard,
  computeLeaderboardFromTable,
  DEFAULT_BOOTSTRAP_ROUNDS,
  DEFAULT_SEED,
  PROVISIONAL_BATTLES,
} from "./core/leaderboard";
export { BOUND_TAIL, openBounds, separate, subCounts, type Separation } from "./core/separation";
export { readVoteFile, readVoteFilePart, VOTE_FILE_FORMATS, type VoteFileFormat } from "./fast/vote-file";
export { mergeVoteTables, PARALLEL_MIN_BYTES, readVoteFileParallel, type ParallelReadOptions } from "./fast/parallel-read";
export { bootstrapParallel, PARALLEL_MIN_BOOTSTRAP_WORK } from "./fast/parallel-bootstrap";
export { styleBootstrapParallel, PARALLEL_MIN_STYLE_WORK } from "./fast/parallel-style";
export { serveRatingsWorker } from "./fast/serve-worker";
export type { ThreadOptions } from "./fast/threads";
export { readJsonRecords, type ByteRange } from "./fast/json-records";
export { FASTCHAT_FORMAT, parseFastChatRow } from "./fastchat";
export { LEITAI_FORMAT, parseVoteObject, VoteFileError, type VoteRowFormat, type VoteRowOptions } from "./vote-format";
export { fitStyleControl, styleData, styleRatings, styleRound, styleSystem, STYLE_REG, type StyleData, type StyleFit } from "./core/style-control";
export { EXACT_BOOTSTRAP_WORK, LINEARISATION_CHECK_ROUNDS, styleBootstrap, type StyleBootstrapOptions, type StyleBootstrapResult } from "./fast/style-rounds";
export { FASTCHAT_STYLE_KEYS, LEITAI_STYLE_KEYS, STYLE_COUNTS, STYLE_FEATURES, styleCount, styleOf, type StyleFeature } from "./style-counts";

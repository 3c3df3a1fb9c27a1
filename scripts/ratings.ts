/**
 * Rating run from a vote file: Bradley–Terry with bootstrap CIs, online Elo, win rates.
 *   npm run ratings -- --input FILE --format fastchat|leitai [--bootstrap N] [--seed S]
 *                      [--anchor MODEL=RATING] [--anony-only] [--file-order] [--style-control] [--json]
 * --anony-only keeps only FastChat rows with "anony": true (Leitai votes are always blind).
 * Online Elo runs in tstamp order (stable) when every FastChat row has a numeric tstamp, as
 * FastChat does; otherwise, or with --file-order, in file order. Models that never lost (or
 * never won) have no finite rating: they get a one-sided bound ("> x", "< x"). --style-control
 * adds FastChat's style-controlled ratings (answer length and markdown held equal).
 * Exit codes: 0 done, 2 bad arguments or bad input file, 1 anything else.
 */
import { parseArgs } from "node:util";
import {
  computeLeaderboardParallel,
  DEFAULT_BOOTSTRAP_ROUNDS,
  DEFAULT_SEED,
  readVoteFileParallel,
  PROVISIONAL_BATTLES,
  serveRatingsWorker,
  sortByTime,
  VOTE_FILE_FORMATS,
  VoteFileError,
  type Anchor,
  type Leaderboard,
  type ModelRating,
  type StyleControlView,
  type VoteFileFormat,
  type VoteTable,
} from "../lib/ratings";

class UsageError extends Error {}

/** The file being read, for error messages. */
let inputPath = "input";

const USAGE = "usage: ratings --input FILE --format fastchat|leitai [--bootstrap N] [--seed S] [--anchor MODEL=RATING|none] [--anony-only] [--file-order] [--style-control] [--json]";

/** FastChat's leaderboard pins this model at this rating when it has battles; so does the CLI on FastChat files. */
const FASTCHAT_ANCHOR: Anchor = { model: "mixtral-8x7b-instruct-v0.1", rating: 1114 };

const HELP = `${USAGE}

Online Elo order: when every row of a FastChat file has a numeric "tstamp", votes are rated
in tstamp order (stable: equal stamps keep file order), as FastChat does; otherwise in file
order. --file-order keeps file order. The output says which order was used.

A model that never lost (or never won) in a scope has no finite Bradley–Terry rating: it is
shown as "> x" ("< x"), x its one-sided 97.5% limit, with the interval open on that side.
Models with fewer than ${PROVISIONAL_BATTLES} battles in a scope are marked provisional.

Scale: --anchor MODEL=RATING shifts every rating so MODEL sits at RATING. Without it, a
FastChat file that rates ${FASTCHAT_ANCHOR.model} is anchored as FastChat's leaderboard is
(${FASTCHAT_ANCHOR.model} = ${FASTCHAT_ANCHOR.rating}); otherwise ratings have mean 1000.
--anchor none always means mean 1000. The output says which scale is in force.

Style control: --style-control also fits FastChat's style-controlled Bradley–Terry model,
which holds answer length and markdown (headers, list items, bold) equal, and prints it as a
second table with its own bootstrap intervals and the fitted style coefficients. The counts
come from each row: FastChat's conv_metadata (sum_assistant_a_tokens, header_count_a,
list_count_a, bold_count_a and the _b ones; numbers or objects of numbers), or Leitai's
tokensA, headersA, listsA, boldA, tokensB, headersB, listsB, boldB. With --json the output is
then {"models": [...], "style_control": {"coefficients", "bootstrap_method", "models"}}.
`;

async function main(argv: string[]): Promise<number> {
  const args = parseCli(argv);
  if (args.help) {
    process.stdout.write(HELP);
    return 0;
  }
  inputPath = args.input;
  // Large runs use two threads (file parsing, bootstrap rounds); workers run this same file,
  // which stays one file once bundled.
  const threads = { workerScript: __filename };
  const read = await readVoteFileParallel(args.input, args.format, { anonyOnly: args.anonyOnly, style: args.styleControl }, threads);
  if (read.length === 0) throw new UsageError(`${args.input}: no votes to rate`);
  if (args.anchor && args.anchor !== "none" && !read.models.includes(args.anchor.model)) throw new UsageError(`--anchor: model ${JSON.stringify(args.anchor.model)} has no battles`);
  const anchor = args.anchor === "none" ? undefined : (args.anchor ?? fastchatDefaultAnchor(read, args.format));
  const { table, order } = eloOrder(read, args);
  const leaderboard = await computeLeaderboardParallel(table, { bootstrapRounds: args.bootstrap, seed: args.seed, anchor, styleControl: args.styleControl }, threads);
  warnUnboundedAnchor(leaderboard, anchor);
  const scale = scaleText(leaderboard, anchor, args.anchor === undefined);
  process.stdout.write(args.json ? toJson(leaderboard, order) : toTable(leaderboard, order, scale));
  return 0;
}

/** The order online Elo saw the votes in: `name` for the JSON, `text` for the table. */
interface EloOrder {
  name: string;
  text: string;
}

/** FastChat's order (by the format's time field) when every row has one and --file-order is not given. */
function eloOrder(table: VoteTable, args: CliArgs): { table: VoteTable; order: EloOrder } {
  const field = VOTE_FILE_FORMATS[args.format].time;
  const file = (why: string) => ({ table, order: { name: "file", text: `file order${why}` } });
  if (field === undefined) return file("");
  if (args.fileOrder) return file(" (--file-order)");
  if (!table.time) return file(` (not every row has a numeric ${field})`);
  return { table: sortByTime(table), order: { name: field, text: `${field} order` } };
}

/** FastChat-comparable by default: FastChat files that rate FastChat's anchor model get its anchor. */
function fastchatDefaultAnchor(table: VoteTable, format: VoteFileFormat): Anchor | undefined {
  return format === "fastchat" && table.models.includes(FASTCHAT_ANCHOR.model) ? FASTCHAT_ANCHOR : undefined;
}

/** Which scale the ratings are on, for the table's summary. */
function scaleText(leaderboard: Leaderboard, anchor: Anchor | undefined, byDefault: boolean): string {
  const rating = anchor && leaderboard.models.find((m) => m.model === anchor.model);
  if (!anchor || !rating || rating.bound) return "scale: mean 1000 over the rated models";
  return `scale: ${anchor.model} = ${anchor.rating}${byDefault ? " (FastChat's anchor; --anchor none for mean 1000)" : " (--anchor)"}`;
}

/** The library falls back to mean 1000 when the anchor model has no finite rating; say so. */
function warnUnboundedAnchor(leaderboard: Leaderboard, anchor: Anchor | undefined): void {
  const rating = anchor && leaderboard.models.find((m) => m.model === anchor.model);
  if (rating?.bound) {
    process.stderr.write(`ratings: --anchor: ${JSON.stringify(anchor!.model)} has no finite rating (${rating.bound}); ratings have mean 1000 over the rated models instead\n`);
  }
}

interface CliArgs {
  input: string;
  format: VoteFileFormat;
  bootstrap: number;
  seed: number;
  /** "none": mean 1000 even where FastChat's anchor applies; undefined: the default. */
  anchor?: Anchor | "none";
  anonyOnly: boolean;
  fileOrder: boolean;
  styleControl: boolean;
  json: boolean;
  help: boolean;
}

function parseCli(argv: string[]): CliArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        input: { type: "string" },
        format: { type: "string", default: "leitai" },
        bootstrap: { type: "string", default: String(DEFAULT_BOOTSTRAP_ROUNDS) },
        seed: { type: "string", default: String(DEFAULT_SEED) },
        anchor: { type: "string" },
        "anony-only": { type: "boolean", default: false },
        "file-order": { type: "boolean", default: false },
        "style-control": { type: "boolean", default: false },
        json: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return { help: true } as CliArgs;
  if (!values.input) throw new UsageError("--input FILE is required");
  if (!Object.hasOwn(VOTE_FILE_FORMATS, values.format)) throw new UsageError(`--format must be one of ${Object.keys(VOTE_FILE_FORMATS).join(", ")}`);
  return {
    input: values.input,
    format: values.format as VoteFileFormat,
    bootstrap: wholeNumber("--bootstrap", values.bootstrap),
    seed: wholeNumber("--seed", values.seed),
    anchor: values.anchor === undefined ? undefined : values.anchor === "none" ? "none" : parseAnchor(values.anchor),
    anonyOnly: values["anony-only"],
    fileOrder: values["file-order"],
    styleControl: values["style-control"],
    json: values.json,
    help: false,
  };
}

function wholeNumber(flag: string, text: string): number {
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) throw new UsageError(`${flag} must be a whole number ≥ 0 (got ${JSON.stringify(text)})`);
  return Number(text);
}

function parseAnchor(text: string): Anchor {
  const at = text.lastIndexOf("=");
  const rating = Number(text.slice(at + 1));
  if (at <= 0 || !Number.isFinite(rating) || text.slice(at + 1).trim() === "") throw new UsageError(`--anchor must look like MODEL=RATING (got ${JSON.stringify(text)})`);
  return { model: text.slice(0, at), rating };
}

/** JSON has no infinities or NaN: an open side or a missing bound is null. */
function finite(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

function toJson(leaderboard: Leaderboard, order: EloOrder): string {
  const rows = jsonRows(leaderboard.models, order);
  const style = leaderboard.styleControl;
  if (!style) return JSON.stringify(rows, null, 2) + "\n";
  const styleControl: Record<string, unknown> = { coefficients: style.coefficients, bootstrap_method: style.bootstrapMethod };
  if (style.linearisationError !== undefined) styleControl.linearisation_error = style.linearisationError;
  styleControl.models = jsonRows(style.models, order);
  return JSON.stringify({ models: rows, style_control: styleControl }, null, 2) + "\n";
}

function jsonRows(models: readonly ModelRating[], order: EloOrder) {
  return models.map((m) => ({
    model: m.model,
    elo: m.elo,
    elo_order: order.name,
    bt: finite(m.bt),
    bound: m.bound,
    ci_low: finite(m.ciLow),
    ci_high: finite(m.ciHigh),
    rank: m.rank,
    win_rate: m.winRate,
    battles: m.battles,
    wins: m.wins,
    losses: m.losses,
    ties: m.ties,
    provisional: m.provisional,
  }));
}

/** The rating cell: the rating, or the bound that exists. */
function ratingCell(m: ModelRating): string {
  if (m.bound === "upper-open") return `> ${m.bt.toFixed(1)}`;
  if (m.bound === "lower-open") return `< ${m.bt.toFixed(1)}`;
  return m.bound === "open" ? "unbounded" : m.bt.toFixed(1);
}

function ciCell(m: ModelRating): string {
  const end = (x: number) => (x === Infinity ? "∞" : x === -Infinity ? "−∞" : x.toFixed(1));
  return `${end(m.ciLow)} – ${end(m.ciHigh)}`;
}

function toTable(leaderboard: Leaderboard, order: EloOrder, scale: string): string {
  const header = ["rank", "model", "bt", "95% CI", "elo", "win rate", "battles", "wins", "losses", "ties"];
  const rows = leaderboard.models.map((m) => [
    rankCell(m),
    m.model,
    ratingCell(m),
    ciCell(m),
    m.elo.toFixed(1),
    m.winRate === null ? "–" : `${(100 * m.winRate).toFixed(1)}%`,
    String(m.battles),
    String(m.wins),
    String(m.losses),
    String(m.ties),
  ]);
  const summary =
    `${leaderboard.voteCount} votes, ${leaderboard.models.length} models, ` +
    `${leaderboard.bootstrapRounds} bootstrap rounds (seed ${leaderboard.seed}), battle set ${leaderboard.battleSetHash.slice(0, 12)}, ` +
    `online Elo in ${order.text}, ${scale}`;
  const style = leaderboard.styleControl ? ["", ...styleTable(leaderboard, leaderboard.styleControl)] : [];
  return [summary, "", ...layout(header, rows), ...style, ...notes(leaderboard.models), ""].join("\n");
}

/** The style-controlled view: rating, interval and the move against the plain rank. */
function styleTable(leaderboard: Leaderboard, style: StyleControlView): string[] {
  const plainRank = new Map(leaderboard.models.map((m) => [m.model, m.rank]));
  const header = ["rank", "model", "bt", "95% CI", "rank without"];
  const rows = style.models.map((m) => [rankCell(m), m.model, ratingCell(m), ciCell(m), String(plainRank.get(m.model))]);
  const beta = Object.entries(style.coefficients)
    .map(([feature, value]) => `${feature} ${value >= 0 ? "+" : "−"}${Math.abs(value).toFixed(3)}`)
    .join(", ");
  const method =
    style.bootstrapMethod === "linearised"
      ? `bootstrap rounds linearised (one Newton step each; largest gap from an exact refit ${style.linearisationError!.toFixed(3)} points)`
      : style.bootstrapMethod === "exact"
        ? "bootstrap rounds refitted exactly"
        : "no bootstrap rounds";
  return [`style controlled (answer length and markdown held equal): coefficients per standard deviation ${beta}; ${method}`, "", ...layout(header, rows)];
}

function rankCell(m: ModelRating): string {
  return m.provisional ? `${m.rank}*` : String(m.rank);
}

/** Columns padded to their widest cell; the model column left-aligned. */
function layout(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) => cells.map((cell, c) => (c === 1 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ").trimEnd();
  return [line(header), ...rows.map(line)];
}

/** Footnotes for the marks the table uses, only when it uses them. */
function notes(models: readonly ModelRating[]): string[] {
  const out: string[] = [];
  if (models.some((m) => m.bound === "upper-open")) out.push("> x: never lost, so no finite rating; x is its one-sided 97.5% lower limit.");
  if (models.some((m) => m.bound === "lower-open")) out.push("< x: never won, so no finite rating; x is its one-sided 97.5% upper limit.");
  if (models.some((m) => m.bound === "open")) out.push("unbounded: met only models that never lost or never won; no limit either way.");
  if (models.some((m) => m.provisional)) out.push(`*: provisional, fewer than ${PROVISIONAL_BATTLES} battles.`);
  return out.length > 0 ? ["", ...out] : [];
}

function fail(error: unknown): void {
  if (error instanceof VoteFileError) {
    process.stderr.write(`ratings: ${inputPath} ${error.message}\n`);
    process.exitCode = 2;
  } else if (error instanceof UsageError) {
    process.stderr.write(`ratings: ${error.message}\n${USAGE}\n`);
    process.exitCode = 2;
  } else if ((error as NodeJS.ErrnoException).code === "ENOENT" || (error as NodeJS.ErrnoException).code === "EISDIR") {
    process.stderr.write(`ratings: cannot read ${inputPath}: ${(error as Error).message}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`ratings: ${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}

if (!serveRatingsWorker()) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  }, fail);
}

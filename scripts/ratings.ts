/**
 * Rating run from a vote file: Bradley–Terry with bootstrap CIs, online Elo, win rates.
 *   npm run ratings -- --input FILE --format fastchat|leitai [--bootstrap N] [--seed S]
 *                      [--anchor MODEL=RATING] [--anony-only] [--json]
 * --anony-only keeps only FastChat rows with "anony": true (Leitai votes are always blind).
 * Exit codes: 0 done, 2 bad arguments or bad input file, 1 anything else.
 */
import { parseArgs } from "node:util";
import {
  computeLeaderboardParallel,
  DEFAULT_BOOTSTRAP_ROUNDS,
  DEFAULT_SEED,
  readVoteFileParallel,
  serveRatingsWorker,
  VOTE_FILE_FORMATS,
  VoteFileError,
  type Anchor,
  type Leaderboard,
  type VoteFileFormat,
} from "../lib/ratings";

class UsageError extends Error {}

/** The file being read, for error messages. */
let inputPath = "input";

const USAGE = "usage: ratings --input FILE --format fastchat|leitai [--bootstrap N] [--seed S] [--anchor MODEL=RATING] [--anony-only] [--json]";

async function main(argv: string[]): Promise<number> {
  const args = parseCli(argv);
  if (args.help) {
    process.stdout.write(USAGE + "\n");
    return 0;
  }
  inputPath = args.input;
  // Large runs use two threads (file parsing, bootstrap rounds); workers run this same file,
  // which stays one file once bundled.
  const threads = { workerScript: __filename };
  const table = await readVoteFileParallel(args.input, args.format, { anonyOnly: args.anonyOnly }, threads);
  if (table.length === 0) throw new UsageError(`${args.input}: no votes to rate`);
  if (args.anchor && !table.models.includes(args.anchor.model)) throw new UsageError(`--anchor: model ${JSON.stringify(args.anchor.model)} has no battles`);
  const leaderboard = await computeLeaderboardParallel(table, { bootstrapRounds: args.bootstrap, seed: args.seed, anchor: args.anchor }, threads);
  process.stdout.write(args.json ? toJson(leaderboard) : toTable(leaderboard));
  return 0;
}

interface CliArgs {
  input: string;
  format: VoteFileFormat;
  bootstrap: number;
  seed: number;
  anchor?: Anchor;
  anonyOnly: boolean;
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
    anchor: values.anchor === undefined ? undefined : parseAnchor(values.anchor),
    anonyOnly: values["anony-only"],
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

function toJson(leaderboard: Leaderboard): string {
  const rows = leaderboard.models.map((m) => ({
    model: m.model,
    elo: m.elo,
    bt: m.bt,
    ci_low: m.ciLow,
    ci_high: m.ciHigh,
    rank: m.rank,
    win_rate: m.winRate,
    battles: m.battles,
    wins: m.wins,
    losses: m.losses,
    ties: m.ties,
  }));
  return JSON.stringify(rows, null, 2) + "\n";
}

function toTable(leaderboard: Leaderboard): string {
  const header = ["rank", "model", "bt", "95% CI", "elo", "win rate", "battles", "wins", "losses", "ties"];
  const rows = leaderboard.models.map((m) => [
    String(m.rank),
    m.model,
    m.bt.toFixed(1),
    `${m.ciLow.toFixed(1)} – ${m.ciHigh.toFixed(1)}`,
    m.elo.toFixed(1),
    m.winRate === null ? "–" : `${(100 * m.winRate).toFixed(1)}%`,
    String(m.battles),
    String(m.wins),
    String(m.losses),
    String(m.ties),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const leftAligned = new Set([1]);
  const line = (cells: string[]) => cells.map((cell, c) => (leftAligned.has(c) ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ").trimEnd();
  const summary =
    `${leaderboard.voteCount} votes, ${leaderboard.models.length} models, ` +
    `${leaderboard.bootstrapRounds} bootstrap rounds (seed ${leaderboard.seed}), battle set ${leaderboard.battleSetHash.slice(0, 12)}`;
  return [summary, "", line(header), ...rows.map(line), ""].join("\n");
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

import { LEITAI_STYLE_KEYS, styleCount, styleOf } from "./style-counts";
import { OUTCOME_A, OUTCOME_B, OUTCOME_BOTH_BAD, OUTCOME_TIE, type RatedVote, type Winner } from "./types";

/** A record could not be read; `line` is 1-based, `field` names the offending key. */
export class VoteFileError extends Error {
  constructor(
    readonly line: number,
    readonly detail: string,
    readonly field?: string,
  ) {
    super(`line ${line}: ${detail}`);
    this.name = "VoteFileError";
  }
}

/** How one file format names a vote's fields; every other field is ignored. */
export interface VoteRowFormat {
  name: string;
  modelA: string;
  modelB: string;
  winner: string;
  /** Accepted winner values and the outcome each means. */
  winners: Record<string, number>;
  category?: string;
  /** Optional fields that must be numbers when present. */
  numbers: string[];
  /** Boolean field telling whether the battle was anonymous (for anonymous-only runs). */
  anony?: string;
  /**
   * Numeric field giving the battle's time, read into VoteTable.time when every row has a
   * number there (anything else there, or nothing, leaves the table without times).
   */
  time?: string;
  /**
   * Where the eight style counts are (STYLE_COUNTS order), read only for style control: number
   * fields named `keys`, inside the object field `object` when set (FastChat's conv_metadata).
   */
  style: { object?: string; keys: readonly string[] };
}

export interface VoteRowOptions {
  /** Keep only rows whose anony field is true. */
  anonyOnly?: boolean;
  /** Read every row's style counts into VoteTable.style (a row without them is an error). */
  style?: boolean;
}

/** Leitai's own export: one RatedVote per line. */
export const LEITAI_FORMAT: VoteRowFormat = {
  name: "leitai",
  modelA: "modelA",
  modelB: "modelB",
  winner: "winner",
  winners: { A: OUTCOME_A, B: OUTCOME_B, tie: OUTCOME_TIE, both_bad: OUTCOME_BOTH_BAD },
  category: "category",
  numbers: ["at"],
  style: { keys: LEITAI_STYLE_KEYS },
};

const WINNER_BY_OUTCOME: Winner[] = ["A", "B", "tie", "both_bad"];

/** The row's time (format.time), NaN when the format has none or the row has no number there. */
export function rowTime(format: VoteRowFormat, row: unknown): number {
  const value = format.time === undefined ? undefined : (row as Record<string, unknown>)[format.time];
  return typeof value === "number" ? value : NaN;
}

/** A row already parsed as JSON → the vote it records; null when the options skip it. */
export function parseVoteObject(format: VoteRowFormat, row: unknown, line: number, options: VoteRowOptions = {}): RatedVote | null {
  if (typeof row !== "object" || row === null || Array.isArray(row)) throw new VoteFileError(line, "expected a JSON object");
  const fields = row as Record<string, unknown>;
  const modelA = modelName(fields, format.modelA, line);
  const modelB = modelName(fields, format.modelB, line);
  const winnerValue = fields[format.winner];
  if (winnerValue === undefined) throw new VoteFileError(line, `missing "${format.winner}"`, format.winner);
  const outcome = typeof winnerValue === "string" && Object.hasOwn(format.winners, winnerValue) ? format.winners[winnerValue] : undefined;
  if (outcome === undefined) throw badWinner(format, line, JSON.stringify(winnerValue));
  let category: string | null = null;
  if (format.category !== undefined) {
    const value = fields[format.category];
    if (typeof value === "string") category = value;
    else if (value !== undefined && value !== null) throw new VoteFileError(line, `"${format.category}" must be a string or null`, format.category);
  }
  for (const key of format.numbers) {
    const value = fields[key];
    if (value !== undefined && typeof value !== "number") throw new VoteFileError(line, `"${key}" must be a number`, key);
  }
  if (modelA === modelB) throw sameModel(format, line);
  if (options.anonyOnly && format.anony !== undefined && fields[format.anony] !== true) return null;
  const vote: RatedVote = { modelA, modelB, winner: WINNER_BY_OUTCOME[outcome]!, category };
  if (typeof fields.at === "number" && format.numbers.includes("at")) vote.at = fields.at;
  if (options.style) vote.style = styleOf(rowStyle(format, fields, line));
  return vote;
}

/** The row's eight style counts; throws a VoteFileError naming the first one missing. */
export function rowStyle(format: VoteRowFormat, fields: Record<string, unknown>, line: number): number[] {
  const { object, keys } = format.style;
  const holder = object === undefined ? fields : fields[object];
  if (object !== undefined && (typeof holder !== "object" || holder === null || Array.isArray(holder))) {
    throw new VoteFileError(line, `style control needs "${object}" with ${keys.map((k) => `"${k}"`).join(", ")}`, object);
  }
  return keys.map((key) => {
    const count = styleCount((holder as Record<string, unknown>)[key]);
    const where = object === undefined ? `"${key}"` : `"${object}.${key}"`;
    if (Number.isNaN(count)) throw new VoteFileError(line, `style control needs ${where}: a count ≥ 0, or an object of counts`, object ?? key);
    return count;
  });
}

function modelName(fields: Record<string, unknown>, key: string, line: number): string {
  const value = fields[key];
  if (value === undefined) throw new VoteFileError(line, `missing "${key}"`, key);
  if (typeof value !== "string" || value.length === 0) throw new VoteFileError(line, `"${key}" must be a non-empty string`, key);
  return value;
}

export function badWinner(format: VoteRowFormat, line: number, got: string): VoteFileError {
  const allowed = Object.keys(format.winners).map((w) => JSON.stringify(w)).join(", ");
  return new VoteFileError(line, `"${format.winner}" must be one of ${allowed} (got ${got})`, format.winner);
}

export function sameModel(format: VoteRowFormat, line: number): VoteFileError {
  return new VoteFileError(line, `"${format.modelA}" and "${format.modelB}" name the same model`, format.modelB);
}

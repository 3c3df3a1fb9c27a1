import { ByteInterner } from "./byte-interner";
import { FASTCHAT_FORMAT } from "./fastchat";
import { bytesEqual, FlatFields, KIND_ABSENT, KIND_NULL, KIND_NUMBER, KIND_STRING, KIND_TRUE, scanFlatObject } from "./flat-json";
import { readJsonRecords, VoteFileError } from "./json-records";
import { LEITAI_FORMAT, parseVoteObject, sameModel, type VoteRowFormat, type VoteRowOptions } from "./vote-format";
import { OUTCOME_BY_WINNER, VoteTableBuilder } from "./vote-table";
import type { VoteTable } from "./types";

export const VOTE_FILE_FORMATS = { leitai: LEITAI_FORMAT, fastchat: FASTCHAT_FORMAT } as const;
export type VoteFileFormat = keyof typeof VOTE_FILE_FORMATS;

/**
 * Reads a vote file (JSONL, or a JSON array) into a vote table, in file order.
 * Throws VoteFileError naming the line and field of the first bad row.
 */
export function readVoteFile(path: string, format: VoteFileFormat, options: VoteRowOptions = {}): VoteTable {
  const reader = new VoteRowReader(VOTE_FILE_FORMATS[format], options);
  readJsonRecords(path, (buf, start, end, line) => reader.row(buf, start, end, line));
  return reader.builder.build();
}

const SLOT_A = 0;
const SLOT_B = 1;
const SLOT_WINNER = 2;
const SLOT_ANONY = 3;
const SLOT_CATEGORY = 4;
const SLOT_NUMBERS = 5;

class VoteRowReader {
  readonly builder = new VoteTableBuilder();
  private readonly fields: FlatFields;
  private readonly winnerBytes: { bytes: Uint8Array; outcome: number }[];
  private readonly models = new ByteInterner((name) => this.builder.modelId(name));
  private readonly categories = new ByteInterner((name) => this.builder.categoryId(name));

  constructor(
    private readonly format: VoteRowFormat,
    private readonly options: VoteRowOptions,
  ) {
    // Unused slots get a key no JSON object can match byte for byte (an unescaped quote).
    const never = '"';
    this.fields = new FlatFields([
      format.modelA,
      format.modelB,
      format.winner,
      format.anony ?? never,
      format.category ?? never,
      ...format.numbers,
    ]);
    this.winnerBytes = Object.entries(format.winners).map(([text, outcome]) => ({ bytes: Buffer.from(text, "utf8"), outcome }));
  }

  row(buf: Buffer, start: number, end: number, line: number): void {
    if (!scanFlatObject(buf, start, end, this.fields)) return this.slowRow(buf, start, end, line);
    const { kind, start: from, end: to } = this.fields;
    const format = this.format;
    for (const slot of [SLOT_A, SLOT_B]) {
      const key = slot === SLOT_A ? format.modelA : format.modelB;
      if (kind[slot] === KIND_ABSENT) throw new VoteFileError(line, `missing "${key}"`, key);
      if (kind[slot] !== KIND_STRING || from[slot] === to[slot]) throw new VoteFileError(line, `"${key}" must be a non-empty string`, key);
    }
    if (kind[SLOT_WINNER] === KIND_ABSENT) throw new VoteFileError(line, `missing "${format.winner}"`, format.winner);
    let outcome = -1;
    if (kind[SLOT_WINNER] === KIND_STRING) {
      for (const w of this.winnerBytes) if (bytesEqual(buf, from[SLOT_WINNER]!, to[SLOT_WINNER]!, w.bytes)) outcome = w.outcome;
    }
    if (outcome < 0) return this.slowRow(buf, start, end, line); // JSON.parse words the error
    let category = -1;
    if (format.category !== undefined && kind[SLOT_CATEGORY] !== KIND_ABSENT && kind[SLOT_CATEGORY] !== KIND_NULL) {
      if (kind[SLOT_CATEGORY] !== KIND_STRING) throw new VoteFileError(line, `"${format.category}" must be a string or null`, format.category);
      category = this.categories.id(buf, from[SLOT_CATEGORY]!, to[SLOT_CATEGORY]!);
    }
    format.numbers.forEach((key, i) => {
      const k = kind[SLOT_NUMBERS + i];
      if (k !== KIND_ABSENT && k !== KIND_NUMBER) throw new VoteFileError(line, `"${key}" must be a number`, key);
    });
    const a = this.models.id(buf, from[SLOT_A]!, to[SLOT_A]!);
    const b = this.models.id(buf, from[SLOT_B]!, to[SLOT_B]!);
    if (a === b) throw sameModel(format, line);
    if (this.options.anonyOnly && format.anony !== undefined && kind[SLOT_ANONY] !== KIND_TRUE) return;
    this.builder.push(a, b, outcome, category);
  }

  /** Reference path for rows the byte scanner does not take. */
  private slowRow(buf: Buffer, start: number, end: number, line: number): void {
    let value: unknown;
    try {
      value = JSON.parse(buf.toString("utf8", start, end));
    } catch (error) {
      throw new VoteFileError(line, `not valid JSON (${(error as Error).message})`);
    }
    const vote = parseVoteObject(this.format, value, line, this.options);
    if (!vote) return;
    const category = vote.category == null ? -1 : this.builder.categoryId(vote.category);
    this.builder.push(this.builder.modelId(vote.modelA), this.builder.modelId(vote.modelB), OUTCOME_BY_WINNER[vote.winner], category);
  }
}

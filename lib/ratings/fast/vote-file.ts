/**
 * Fast path: reads a vote file into a VoteTable with the byte scanner (flat-json.ts) and a
 * row layout learnt from the first row, falling back to JSON.parse and ../vote-format.ts (the
 * reference for what a row means) for anything else. Speeds up the "parse s" column of
 * bench/ratings-bench.ts (bench/results/ratings-*.json); pinned to
 * the JSON.parse path row by row in test/unit/ratings/vote-file.test.ts.
 */
import { ByteInterner } from "./byte-interner";
import { FASTCHAT_FORMAT } from "../fastchat";
import { bytesEqual, FlatFields, KIND_ABSENT, KIND_NULL, KIND_NUMBER, KIND_STRING, KIND_TRUE, numberValue, RowLayout, scanFlatObject } from "./flat-json";
import { readJsonRecords, type ByteRange, type LineRunReader } from "./json-records";
import { LEITAI_FORMAT, parseVoteObject, rowTime, sameModel, VoteFileError, type VoteRowFormat, type VoteRowOptions } from "../vote-format";
import { STYLE_COUNTS } from "../style-counts";
import { OUTCOME_BY_WINNER, VoteTableBuilder } from "../vote-table";
import type { VoteTable } from "../types";

export const VOTE_FILE_FORMATS = { leitai: LEITAI_FORMAT, fastchat: FASTCHAT_FORMAT } as const;
export type VoteFileFormat = keyof typeof VOTE_FILE_FORMATS;

/**
 * Reads a vote file (JSONL, or a JSON array) into a vote table, in file order, with the
 * format's time field as a column when every row has a number there.
 * Throws VoteFileError naming the line and field of the first bad row.
 */
export function readVoteFile(path: string, format: VoteFileFormat, options: VoteRowOptions = {}): VoteTable {
  return readVoteFilePart(path, format, options).table;
}

/**
 * readVoteFile over one byte range (see readJsonRecords): the part's own table, with
 * ids local to it, and the number of the line after it (lines count from the range start).
 */
export function readVoteFilePart(path: string, format: VoteFileFormat, options: VoteRowOptions = {}, range?: ByteRange): { table: VoteTable; endLine: number } {
  const reader = new VoteRowReader(VOTE_FILE_FORMATS[format], options);
  const endLine = readJsonRecords(path, (buf, start, end, line) => reader.row(buf, start, end, line), range, reader);
  return { table: reader.builder.build(), endLine };
}

// Local copies: under a CommonJS transform (tsx) every read of an imported binding is a
// getter call, which costs more than the rest of the per-row work.
const scan = scanFlatObject;
const equalBytes = bytesEqual;
const readNumber = numberValue;
const ABSENT = KIND_ABSENT;
const STRING = KIND_STRING;
const NUMBER = KIND_NUMBER;
const NULL = KIND_NULL;
const TRUE = KIND_TRUE;

const SLOT_A = 0;
const SLOT_B = 1;
const SLOT_WINNER = 2;
const SLOT_ANONY = 3;
const SLOT_CATEGORY = 4;
const SLOT_TIME = 5;
const SLOT_NUMBERS = 6;

const NEWLINE = 0x0a;
const RETURN = 0x0d;

class VoteRowReader implements LineRunReader {
  readonly builder: VoteTableBuilder;
  private readonly fields: FlatFields;
  private readonly timed: boolean;
  /** Style count slots the scanner fills: 0 when style is not read, −1 when only JSON.parse can read it. */
  private readonly styleSlots: number;
  private readonly styleCounts = new Float64Array(STYLE_COUNTS);
  private readonly winnerBytes: { bytes: Uint8Array; outcome: number }[];
  private readonly models = new ByteInterner((name) => this.builder.modelId(name));
  private readonly categories = new ByteInterner((name) => this.builder.categoryId(name));
  /** The layout of the last row the scanner read, and a view of the buffer it is matched in. */
  private layout: RowLayout | null = null;
  private viewOf: Buffer | null = null;
  private view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
  /** Lines the last readLines() call took. */
  linesRead = 0;

  constructor(
    private readonly format: VoteRowFormat,
    private readonly options: VoteRowOptions,
  ) {
    this.timed = format.time !== undefined;
    // Flat style fields are read by the byte scanner; nested ones (FastChat) by JSON.parse.
    this.styleSlots = options.style ? (format.style.object === undefined ? format.style.keys.length : -1) : 0;
    this.builder = new VoteTableBuilder({ timed: this.timed, styled: options.style === true });
    // Unused slots get a key no JSON object can match byte for byte (an unescaped quote).
    const never = '"';
    this.fields = new FlatFields([
      format.modelA,
      format.modelB,
      format.winner,
      format.anony ?? never,
      format.category ?? never,
      format.time ?? never,
      ...format.numbers,
      ...(this.styleSlots > 0 ? format.style.keys : []),
    ]);
    this.winnerBytes = Object.entries(format.winners).map(([text, outcome]) => ({ bytes: Buffer.from(text, "utf8"), outcome }));
  }

  /** A whole line's record (trimmed): by the learnt layout, the byte scanner or JSON.parse. */
  row(buf: Buffer, start: number, end: number, line: number): void {
    const fields = this.fields;
    this.viewBuffer(buf);
    if (this.layout === null || !this.layout.match(buf, this.view, start, end, fields)) {
      if (!scan(buf, this.view, start, end, fields)) return this.slowRow(buf, start, end, line);
      this.layout = RowLayout.learn(buf, this.view, start, end, fields);
    }
    this.accept(buf, start, end, line);
  }

  /**
   * The fast path: consecutive lines that are exactly one row of the learnt layout each
   * (no surrounding space, \n or \r\n after), without finding each line's end first.
   */
  readLines(buf: Buffer, pos: number, limit: number, line: number): number {
    let rows = 0;
    const layout = this.layout;
    if (layout !== null) {
      this.viewBuffer(buf);
      const view = this.view;
      const fields = this.fields;
      for (;;) {
        const end = layout.read(buf, view, pos, limit, fields);
        if (end < 0 || end >= limit) break;
        let next: number;
        if (buf[end] === NEWLINE) next = end + 1;
        else if (buf[end] === RETURN && end + 1 < limit && buf[end + 1] === NEWLINE) next = end + 2;
        else break;
        this.accept(buf, pos, end, line + rows);
        rows++;
        pos = next;
      }
    }
    this.linesRead = rows;
    return pos;
  }

  private viewBuffer(buf: Buffer): void {
    if (this.viewOf !== buf) {
      this.viewOf = buf;
      this.view = new DataView(buf.buffer, buf.byteOffset, buf.length);
    }
  }

  /** Checks and stores the row buf[start, end) whose values `fields` holds. */
  private accept(buf: Buffer, start: number, end: number, line: number): void {
    const fields = this.fields;
    const { kind, start: from, end: to, hash } = fields;
    const format = this.format;
    this.checkModel(kind[SLOT_A]!, from[SLOT_A]!, to[SLOT_A]!, format.modelA, line);
    this.checkModel(kind[SLOT_B]!, from[SLOT_B]!, to[SLOT_B]!, format.modelB, line);
    if (kind[SLOT_WINNER] === ABSENT) throw new VoteFileError(line, `missing "${format.winner}"`, format.winner);
    let outcome = -1;
    if (kind[SLOT_WINNER] === STRING) {
      const winners = this.winnerBytes;
      for (let w = 0; w < winners.length && outcome < 0; w++) {
        if (equalBytes(buf, from[SLOT_WINNER]!, to[SLOT_WINNER]!, winners[w]!.bytes)) outcome = winners[w]!.outcome;
      }
    }
    if (outcome < 0 || this.styleSlots < 0) return this.slowRow(buf, start, end, line); // JSON.parse words the error
    let category = -1;
    const categoryKind = kind[SLOT_CATEGORY]!;
    if (format.category !== undefined && categoryKind !== ABSENT && categoryKind !== NULL) {
      if (categoryKind !== STRING) throw new VoteFileError(line, `"${format.category}" must be a string or null`, format.category);
      category = this.categories.idWithHash(buf, this.view, from[SLOT_CATEGORY]!, to[SLOT_CATEGORY]!, hash[SLOT_CATEGORY]!);
    }
    for (let i = 0; i < format.numbers.length; i++) {
      const k = kind[SLOT_NUMBERS + i];
      if (k !== ABSENT && k !== NUMBER) throw new VoteFileError(line, `"${format.numbers[i]}" must be a number`, format.numbers[i]);
    }
    const a = this.models.idWithHash(buf, this.view, from[SLOT_A]!, to[SLOT_A]!, hash[SLOT_A]!);
    const b = this.models.idWithHash(buf, this.view, from[SLOT_B]!, to[SLOT_B]!, hash[SLOT_B]!);
    if (a === b) throw sameModel(format, line);
    if (this.options.anonyOnly && format.anony !== undefined && kind[SLOT_ANONY] !== TRUE) return;
    if (this.styleSlots > 0) {
      const first = SLOT_NUMBERS + format.numbers.length;
      for (let k = 0; k < STYLE_COUNTS; k++) {
        const count = kind[first + k] === NUMBER ? readNumber(buf, from[first + k]!, to[first + k]!) : NaN;
        if (!(count >= 0)) return this.slowRow(buf, start, end, line); // JSON.parse words the error
        this.styleCounts[k] = count;
      }
    }
    this.builder.push(a, b, outcome, category);
    if (this.timed) this.builder.timeLast(kind[SLOT_TIME] === NUMBER ? readNumber(buf, from[SLOT_TIME]!, to[SLOT_TIME]!) : NaN);
    if (this.styleSlots > 0) this.builder.styleLast(this.styleCounts);
  }

  private checkModel(kind: number, from: number, to: number, key: string, line: number): void {
    if (kind === ABSENT) throw new VoteFileError(line, `missing "${key}"`, key);
    if (kind !== STRING || from === to) throw new VoteFileError(line, `"${key}" must be a non-empty string`, key);
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
    if (this.timed) this.builder.timeLast(rowTime(this.format, value));
    if (vote.style) this.builder.styleLast([...vote.style.a, ...vote.style.b]);
  }
}

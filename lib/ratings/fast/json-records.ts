/**
 * Fast path: streams a vote file's records (JSONL lines, or the objects of a JSON array)
 * from fixed-size reads, without holding the file or one string per line in memory, and hands
 * whole runs of lines to the learnt-layout reader of vote-file.ts. Speeds up the "parse s"
 * column of bench/ratings-bench.ts (bench/results/ratings-*.json; a million rows). Its records
 * are what JSON.parse reads: test/unit/ratings/vote-file.test.ts.
 */
import { closeSync, openSync, readSync } from "node:fs";
import { VoteFileError } from "../vote-format";

/** Called with one record's bytes buf[start, end) and the line it starts on. */
export type RecordHandler = (buf: Buffer, start: number, end: number, line: number) => void;

/**
 * An optional fast path over JSONL: reads as many whole lines as it can from buf[pos, limit)
 * (the first being line `line`) and returns the offset after the last one, pos when none;
 * `linesRead` then says how many. Lines it stops at go to the RecordHandler.
 */
export interface LineRunReader {
  readLines(buf: Buffer, pos: number, limit: number, line: number): number;
  linesRead: number;
}

const CHUNK = 1 << 22;
const NEWLINE = 0x0a;

/** Bytes [start, end) of a file; a range starting past 0 must start a line. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Streams the objects of a JSONL file (one per line) or of a JSON array file (FastChat
 * dumps), without holding the file in memory. Lines are found with Buffer.indexOf,
 * so a million-row file costs little beyond the records' own parsing.
 * With a range starting past 0, reads only JSONL lines there, numbering them from 1.
 * Returns the number of the line after the last byte read.
 */
export function readJsonRecords(path: string, onRecord: RecordHandler, range?: ByteRange, runs?: LineRunReader): number {
  const fd = openSync(path, "r");
  try {
    const splitter = new RecordSplitter(fd, onRecord, range?.start ?? 0, range?.end ?? Infinity, runs);
    if (range && range.start > 0) splitter.linesOnly();
    else splitter.run();
    return splitter.line;
  } finally {
    closeSync(fd);
  }
}

/** True when the file's first value opens a JSON array (such files are not split by lines). */
export function startsWithArray(path: string): boolean {
  const fd = openSync(path, "r");
  try {
    const head = Buffer.alloc(1 << 16);
    let n = readSync(fd, head, 0, head.length, 0);
    let p = n >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
    for (let offset = 0; n > 0; p = 0) {
      while (p < n && isSpace(head[p]!)) p++;
      if (p < n) return head[p] === 0x5b;
      offset += n;
      n = readSync(fd, head, 0, head.length, offset);
    }
    return false;
  } finally {
    closeSync(fd);
  }
}

class RecordSplitter {
  private buf = Buffer.allocUnsafe(CHUNK);
  private len = 0;
  private eof = false;
  line = 1;

  constructor(
    private readonly fd: number,
    private readonly onRecord: RecordHandler,
    /** File offset of the next read. */
    private position: number,
    private readonly limit: number,
    private readonly runs?: LineRunReader,
  ) {}

  linesOnly(): void {
    this.fill(0);
    this.lines(0);
  }

  run(): void {
    this.fill(0);
    let pos = 0;
    if (this.len >= 3 && this.buf[0] === 0xef && this.buf[1] === 0xbb && this.buf[2] === 0xbf) pos = 3;
    while (pos < this.len && isSpace(this.buf[pos]!)) {
      if (this.buf[pos] === NEWLINE) this.line++;
      pos++;
    }
    if (this.buf[pos] === 0x5b /* [ */) this.array(pos + 1);
    else this.lines(pos);
  }

  /** Moves unread bytes from `keep` to the front, grows if full, reads more; returns the shift. */
  private fill(keep: number): number {
    if (this.eof) return 0;
    this.buf.copy(this.buf, 0, keep, this.len);
    this.len -= keep;
    if (this.len === this.buf.length) {
      const bigger = Buffer.allocUnsafe(this.buf.length * 2);
      this.buf.copy(bigger, 0, 0, this.len);
      this.buf = bigger;
    }
    const want = Math.min(this.buf.length - this.len, this.limit - this.position);
    const read = want > 0 ? readSync(this.fd, this.buf, this.len, want, this.position) : 0;
    if (read === 0) this.eof = true;
    this.position += read;
    this.len += read;
    return keep;
  }

  private lines(start: number): void {
    let pos = start;
    const runs = this.runs;
    for (;;) {
      const view = this.buf.subarray(0, this.len);
      let nl: number;
      for (;;) {
        if (runs) {
          pos = runs.readLines(this.buf, pos, this.len, this.line);
          this.line += runs.linesRead;
        }
        if ((nl = view.indexOf(NEWLINE, pos)) === -1) break;
        this.emitLine(pos, nl);
        pos = nl + 1;
        this.line++;
      }
      if (this.eof) break;
      pos -= this.fill(pos);
    }
    if (pos < this.len) this.emitLine(pos, this.len);
  }

  private emitLine(start: number, end: number): void {
    let e = end;
    while (e > start && isSpace(this.buf[e - 1]!)) e--;
    let s = start;
    while (s < e && isSpace(this.buf[s]!)) s++;
    if (s < e) this.onRecord(this.buf, s, e, this.line);
  }

  /** Top-level array: tracks strings and nesting to cut out each element. */
  private array(start: number): void {
    let pos = start;
    let depth = 0;
    let inString = false;
    let escaped = false;
    let recordStart = -1;
    let recordLine = 0;
    let expectValue = true;
    for (;;) {
      const buf = this.buf;
      for (; pos < this.len; pos++) {
        const c = buf[pos]!;
        if (c === NEWLINE) this.line++;
        if (inString) {
          if (escaped) escaped = false;
          else if (c === 0x5c /* \ */) escaped = true;
          else if (c === 0x22 /* " */) inString = false;
          continue;
        }
        if (depth === 0) {
          if (isSpace(c)) continue;
          if (c === 0x5d /* ] */ && (!expectValue || recordLine === 0)) return this.trailing(pos + 1);
          if (c === 0x2c /* , */ && !expectValue) {
            expectValue = true;
            continue;
          }
          if (c !== 0x7b /* { */ || !expectValue) throw new VoteFileError(this.line, "expected an object in the top-level array");
          recordStart = pos;
          recordLine = this.line;
        }
        if (c === 0x22) inString = true;
        else if (c === 0x7b || c === 0x5b) depth++;
        else if (c === 0x7d || c === 0x5d) {
          depth--;
          if (depth === 0) {
            this.onRecord(buf, recordStart, pos + 1, recordLine);
            recordStart = -1;
            expectValue = false;
          }
        }
      }
      if (this.eof) throw new VoteFileError(this.line, "unexpected end of file inside the top-level array");
      const keep = recordStart >= 0 ? recordStart : pos;
      const shift = this.fill(keep);
      pos -= shift;
      if (recordStart >= 0) recordStart -= shift;
    }
  }

  private trailing(pos: number): void {
    for (;;) {
      for (; pos < this.len; pos++) {
        const c = this.buf[pos]!;
        if (c === NEWLINE) this.line++;
        else if (!isSpace(c)) throw new VoteFileError(this.line, "unexpected content after the top-level array");
      }
      if (this.eof) return;
      pos -= this.fill(pos);
    }
  }
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

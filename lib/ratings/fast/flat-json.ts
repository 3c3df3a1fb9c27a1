/**
 * Fast path (the "parse s" column of bench/ratings-bench.ts, bench/results/ratings-*.json;
 * pinned to JSON.parse in test/unit/ratings/vote-file.test.ts) for the common vote row: a
 * flat JSON object whose strings have no escapes. It reads only the wanted keys straight from the bytes, so a million rows
 * need no JSON.parse and no throwaway objects. Anything else (nesting, escapes,
 * malformed text) returns false and the caller falls back to JSON.parse, which is
 * the reference for what a row means.
 */

export const KIND_ABSENT = 0;
export const KIND_STRING = 1;
export const KIND_NUMBER = 2;
export const KIND_TRUE = 3;
export const KIND_FALSE = 4;
export const KIND_NULL = 5;

/**
 * Where each wanted key's value sits: kind, for strings the content bytes [start, end)
 * and their FNV-1a hash (taken while scanning, so interning need not read them again).
 */
export class FlatFields {
  readonly keys: Uint8Array[];
  readonly kind: Uint8Array;
  readonly start: Int32Array;
  readonly end: Int32Array;
  readonly hash: Int32Array;
  /** Scratch, set by scanValue: kind of the last value scanned, and its hash when a string. */
  lastKind = KIND_ABSENT;
  lastHash = 0;

  constructor(keys: readonly string[]) {
    this.keys = keys.map((k) => new Uint8Array(Buffer.from(k, "utf8")));
    this.kind = new Uint8Array(keys.length);
    this.start = new Int32Array(keys.length);
    this.end = new Int32Array(keys.length);
    this.hash = new Int32Array(keys.length);
  }
}

export const FNV_OFFSET = 0x811c9dc5 | 0;
export const FNV_PRIME = 0x01000193;

const QUOTE = 0x22;

/** Fills `fields` from the object in buf[s, e) (`view`: all of buf); false when the fast path does not apply. */
export function scanFlatObject(buf: Uint8Array, view: DataView, s: number, e: number, fields: FlatFields): boolean {
  const kinds = fields.kind;
  for (let k = 0; k < kinds.length; k++) kinds[k] = KIND_ABSENT;
  let p = skipSpace(buf, s, e);
  if (p >= e || buf[p] !== 0x7b /* { */) return false;
  p = skipSpace(buf, p + 1, e);
  if (p < e && buf[p] === 0x7d /* } */) return skipSpace(buf, p + 1, e) === e;
  for (;;) {
    if (p >= e || buf[p] !== QUOTE) return false;
    const keyStart = p + 1;
    const keyEnd = scanString(buf, keyStart, e);
    if (keyEnd < 0) return false;
    p = skipSpace(buf, keyEnd + 1, e);
    if (p >= e || buf[p] !== 0x3a /* : */) return false;
    p = skipSpace(buf, p + 1, e);
    const end = scanValue(buf, view, p, e, fields);
    if (end < 0) return false;
    const slot = keySlot(buf, keyStart, keyEnd, fields.keys);
    if (slot >= 0) recordValue(fields, slot, p, end);

    p = skipSpace(buf, end, e);
    if (p >= e) return false;
    if (buf[p] === 0x2c /* , */) {
      p = skipSpace(buf, p + 1, e);
      continue;
    }
    return buf[p] === 0x7d && skipSpace(buf, p + 1, e) === e;
  }
}

/**
 * Scans the flat JSON value (string without escapes, number, true, false or null) starting
 * at p, before e: returns its end (past a string's closing quote) and leaves its kind, and a
 * string's hash, in `fields`; −1 when the fast path does not take it.
 */
function scanValue(buf: Uint8Array, view: DataView, p: number, e: number, fields: FlatFields): number {
  if (p >= e) return -1;
  const c = buf[p]!;
  if (c === QUOTE) {
    const close = scanHashedString(buf, p + 1, e, fields);
    fields.lastKind = KIND_STRING;
    return close < 0 ? -1 : close + 1;
  }
  if (c === 0x74 /* t */ && matches(buf, p, e, "true")) {
    fields.lastKind = KIND_TRUE;
    return p + 4;
  }
  if (c === 0x66 /* f */ && matches(buf, p, e, "false")) {
    fields.lastKind = KIND_FALSE;
    return p + 5;
  }
  if (c === 0x6e /* n */ && matches(buf, p, e, "null")) {
    fields.lastKind = KIND_NULL;
    return p + 4;
  }
  fields.lastKind = KIND_NUMBER;
  return scanNumber(buf, view, p, e);
}

/** Stores the value buf[p, end) that scanValue just read into `slot` (a string: its content). */
function recordValue(fields: FlatFields, slot: number, p: number, end: number): void {
  const kind = fields.lastKind;
  fields.kind[slot] = kind;
  if (kind === KIND_STRING) {
    fields.hash[slot] = fields.lastHash;
    fields.start[slot] = p + 1;
    fields.end[slot] = end - 1;
  } else {
    fields.start[slot] = p;
    fields.end[slot] = end;
  }
}

/** Index of the closing quote of a string starting at s; −1 on an escape, control byte or no end. */
function scanString(buf: Uint8Array, s: number, e: number): number {
  for (let p = s; p < e; p++) {
    const c = buf[p]!;
    if (c === QUOTE) return p;
    if (c === 0x5c /* \ */ || c < 0x20) return -1;
  }
  return -1;
}

/** scanString that also leaves the content's FNV-1a hash in fields.lastHash. */
function scanHashedString(buf: Uint8Array, s: number, e: number, fields: FlatFields): number {
  let h = FNV_OFFSET;
  for (let p = s; p < e; p++) {
    const c = buf[p]!;
    if (c === QUOTE) {
      fields.lastHash = h;
      return p;
    }
    if (c === 0x5c /* \ */ || c < 0x20) return -1;
    h = Math.imul(h ^ c, FNV_PRIME);
  }
  return -1;
}

/** End of a JSON number starting at s, or −1 when it is not one; integer digits go four at a time (timestamps have 13). */
function scanNumber(buf: Uint8Array, view: DataView, s: number, e: number): number {
  let p = s;
  if (p < e && buf[p] === 0x2d /* - */) p++;
  if (p >= e) return -1;
  if (buf[p] === 0x30 /* 0 */) p++;
  else if (isDigit(buf[p]!)) {
    p++;
    while (p + 4 <= e && fourDigits(view.getInt32(p, true))) p += 4;
    while (p < e && isDigit(buf[p]!)) p++;
  } else return -1;
  return scanFraction(buf, p, e);
}

/** True when all four bytes of w are ASCII digits: high nibble 3, and adding 6 keeps it 3. */
function fourDigits(w: number): boolean {
  return (w & 0xf0f0f0f0) === 0x30303030 && ((w + 0x06060606) & 0xf0f0f0f0) === 0x30303030;
}

/** Past a number's integer part at p: its optional fraction and exponent; the end, or −1. */
function scanFraction(buf: Uint8Array, s: number, e: number): number {
  let p = s;
  if (p < e && buf[p] === 0x2e /* . */) {
    p++;
    if (p >= e || !isDigit(buf[p]!)) return -1;
    while (p < e && isDigit(buf[p]!)) p++;
  }
  if (p < e && (buf[p] === 0x65 || buf[p] === 0x45) /* e E */) {
    p++;
    if (p < e && (buf[p] === 0x2b || buf[p] === 0x2d)) p++;
    if (p >= e || !isDigit(buf[p]!)) return -1;
    while (p < e && isDigit(buf[p]!)) p++;
  }
  return p;
}

function keySlot(buf: Uint8Array, s: number, e: number, keys: Uint8Array[]): number {
  const length = e - s;
  for (let k = 0; k < keys.length; k++) {
    const key = keys[k]!;
    if (key.length !== length) continue;
    let same = true;
    for (let i = 0; i < length && same; i++) same = buf[s + i] === key[i];
    if (same) return k;
  }
  return -1;
}

function matches(buf: Uint8Array, p: number, e: number, word: string): boolean {
  if (p + word.length > e) return false;
  for (let i = 0; i < word.length; i++) if (buf[p + i] !== word.charCodeAt(i)) return false;
  return true;
}

function skipSpace(buf: Uint8Array, p: number, e: number): number {
  while (p < e && (buf[p] === 0x20 || buf[p] === 0x09 || buf[p] === 0x0d || buf[p] === 0x0a)) p++;
  return p;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** True when buf[s, e) holds exactly the bytes of `text` (ASCII). */
export function bytesEqual(buf: Uint8Array, s: number, e: number, text: Uint8Array): boolean {
  if (e - s !== text.length) return false;
  for (let i = 0; i < text.length; i++) if (buf[s + i] !== text[i]) return false;
  return true;
}

/**
 * The byte layout of one row that scanFlatObject accepted: the literal text between
 * values (braces, keys, colons, commas, whitespace) and which wanted slot each value
 * fills. Vote files repeat one layout on every row, so a row is read by checking the
 * literals four bytes at a time and scanning only the values; a row that differs
 * anywhere fails the match and goes through scanFlatObject.
 */
export class RowLayout {
  /** wordsOf each literal. */
  private readonly words: Int32Array[];

  private constructor(
    /** literals[v] precedes value v; the last one closes the object. */
    private readonly literals: Uint8Array[],
    private readonly slots: Int32Array,
  ) {
    this.words = literals.map(wordsOf);
  }

  /** The layout of buf[s, e), which scanFlatObject has just accepted with `fields`. */
  static learn(buf: Uint8Array, view: DataView, s: number, e: number, fields: FlatFields): RowLayout {
    const literals: Uint8Array[] = [];
    const slots: number[] = [];
    let literalStart = s;
    let p = skipSpace(buf, s, e) + 1; // past {
    for (;;) {
      p = skipSpace(buf, p, e);
      if (buf[p] === 0x7d) break; // } of an empty object
      const keyEnd = scanString(buf, p + 1, e);
      const slot = keySlot(buf, p + 1, keyEnd, fields.keys);
      p = skipSpace(buf, skipSpace(buf, keyEnd + 1, e) + 1, e); // past :
      literals.push(buf.slice(literalStart, p));
      slots.push(slot);
      p = scanValue(buf, view, p, e, fields);
      literalStart = p;
      p = skipSpace(buf, p, e);
      if (buf[p] === 0x2c) p++;
      else break;
    }
    literals.push(buf.slice(literalStart, e));
    return new RowLayout(literals, Int32Array.from(slots));
  }

  /** scanFlatObject for a row of this layout; false when the row's bytes leave it. */
  match(buf: Uint8Array, view: DataView, s: number, e: number, fields: FlatFields): boolean {
    return this.read(buf, view, s, e, fields) === e;
  }

  /**
   * Reads a row of this layout starting at s, without knowing where it ends (nothing past
   * `limit` is read): fills `fields` and returns the offset just past its closing literal,
   * or −1 when the bytes leave the layout.
   */
  read(buf: Uint8Array, view: DataView, s: number, e: number, fields: FlatFields): number {
    const kinds = fields.kind;
    for (let k = 0; k < kinds.length; k++) kinds[k] = KIND_ABSENT;
    const literals = this.literals;
    const words = this.words;
    const slots = this.slots;
    let p = s;
    for (let v = 0; v < slots.length; v++) {
      const literal = literals[v]!;
      if (!literalAt(buf, view, p, e, literal, words[v]!)) return -1;
      p += literal.length;
      const end = scanValue(buf, view, p, e, fields);
      if (end < 0) return -1;
      if (slots[v]! >= 0) recordValue(fields, slots[v]!, p, end);
      p = end;
    }
    const last = literals[slots.length]!;
    return literalAt(buf, view, p, e, last, words[slots.length]!) ? p + last.length : -1;
  }
}

/**
 * Little-endian four-byte words covering `bytes` for wordsEqual: one per whole word, then
 * (when the length is not a multiple of 4) the word ending at the last byte, which overlaps.
 */
export function wordsOf(bytes: Uint8Array): Int32Array {
  const n = bytes.length;
  const view = new DataView(bytes.buffer, bytes.byteOffset, n);
  const whole = n >> 2;
  const words = new Int32Array(n >= 4 && (n & 3) !== 0 ? whole + 1 : whole);
  for (let w = 0; w < whole; w++) words[w] = view.getInt32(4 * w, true);
  if (words.length > whole) words[whole] = view.getInt32(n - 4, true);
  return words;
}

/** buf[p, p + bytes.length) equals bytes (with `words` = wordsOf(bytes)); the caller checks it fits. */
export function wordsEqual(buf: Uint8Array, view: DataView, p: number, bytes: Uint8Array, words: Int32Array): boolean {
  const n = bytes.length;
  if (n < 4) {
    for (let i = 0; i < n; i++) if (buf[p + i] !== bytes[i]) return false;
    return true;
  }
  const whole = n >> 2;
  for (let w = 0; w < whole; w++) if (view.getInt32(p + 4 * w, true) !== words[w]) return false;
  return whole === words.length || view.getInt32(p + n - 4, true) === words[whole];
}

/** True when buf holds `literal` at p, before e. */
function literalAt(buf: Uint8Array, view: DataView, p: number, e: number, literal: Uint8Array, words: Int32Array): boolean {
  return p + literal.length <= e && wordsEqual(buf, view, p, literal, words);
}

/** Powers of ten that doubles hold exactly (10^22 is the last). */
const EXACT_POWERS = Array.from({ length: 23 }, (_, k) => 10 ** k);

/**
 * The value of the JSON number in buf[s, e) (a range the scanner accepted), as Number() reads
 * it. A plain decimal whose digits make an integer below 2^53 (FastChat rounds tstamp to four
 * decimals: 14 digits) takes Clinger's fast path — an exact integer over an exact power of
 * ten, one correctly rounded division — so the common row makes no string.
 */
export function numberValue(buf: Uint8Array, s: number, e: number): number {
  let p = s;
  const negative = buf[p] === 0x2d;
  if (negative) p++;
  let digits = 0;
  let scale = 0;
  let point = false;
  for (; p < e; p++) {
    const c = buf[p]!;
    if (c === 0x2e /* . */) point = true;
    else if (!isDigit(c)) return slowNumber(buf, s, e); // an exponent
    else {
      digits = digits * 10 + (c - 0x30);
      if (point) scale++;
    }
  }
  // Past 2^53 the sum above may have rounded, but it stays past 2^53.
  if (digits > Number.MAX_SAFE_INTEGER || scale >= EXACT_POWERS.length) return slowNumber(buf, s, e);
  const value = scale === 0 ? digits : digits / EXACT_POWERS[scale]!;
  return negative ? -value : value;
}

function slowNumber(buf: Uint8Array, s: number, e: number): number {
  return Number(Buffer.from(buf.buffer, buf.byteOffset + s, e - s).toString("latin1"));
}

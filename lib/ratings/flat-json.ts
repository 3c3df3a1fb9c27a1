/**
 * A fast path for the common vote row: a flat JSON object whose strings have no
 * escapes. It reads only the wanted keys straight from the bytes, so a million rows
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
  /** Scratch: hash of the last string scanned. */
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

/** Fills `fields` from the object in buf[s, e); false when the fast path does not apply. */
export function scanFlatObject(buf: Uint8Array, s: number, e: number, fields: FlatFields): boolean {
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
    if (p >= e) return false;

    const c = buf[p]!;
    let kind: number;
    let valueStart = p;
    let valueEnd: number;
    if (c === QUOTE) {
      valueStart = p + 1;
      valueEnd = scanHashedString(buf, valueStart, e, fields);
      if (valueEnd < 0) return false;
      kind = KIND_STRING;
      p = valueEnd + 1;
    } else if (c === 0x74 /* t */ && matches(buf, p, e, "true")) {
      kind = KIND_TRUE;
      p += 4;
    } else if (c === 0x66 /* f */ && matches(buf, p, e, "false")) {
      kind = KIND_FALSE;
      p += 5;
    } else if (c === 0x6e /* n */ && matches(buf, p, e, "null")) {
      kind = KIND_NULL;
      p += 4;
    } else {
      valueEnd = scanNumber(buf, p, e);
      if (valueEnd < 0) return false;
      kind = KIND_NUMBER;
      p = valueEnd;
    }

    const slot = keySlot(buf, keyStart, keyEnd, fields.keys);
    if (slot >= 0) {
      if (kind === KIND_STRING) fields.hash[slot] = fields.lastHash;
      fields.kind[slot] = kind;
      fields.start[slot] = valueStart;
      fields.end[slot] = kind === KIND_STRING ? p - 1 : p;
    }

    p = skipSpace(buf, p, e);
    if (p >= e) return false;
    if (buf[p] === 0x2c /* , */) {
      p = skipSpace(buf, p + 1, e);
      continue;
    }
    return buf[p] === 0x7d && skipSpace(buf, p + 1, e) === e;
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

/** End of a JSON number starting at s, or −1 when it is not one. */
function scanNumber(buf: Uint8Array, s: number, e: number): number {
  let p = s;
  if (p < e && buf[p] === 0x2d /* - */) p++;
  if (p >= e) return -1;
  if (buf[p] === 0x30 /* 0 */) p++;
  else if (isDigit(buf[p]!)) while (p < e && isDigit(buf[p]!)) p++;
  else return -1;
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

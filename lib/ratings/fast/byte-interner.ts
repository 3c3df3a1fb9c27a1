/**
 * Fast path: model and category names to ids straight from the row's bytes, so a million
 * rows decode a handful of strings. Part of the "parse s" column of bench/ratings-bench.ts
 * (bench/results/ratings-*.json); test/unit/ratings/vote-file.test.ts reads the same ids as
 * the JSON.parse path.
 */
import { wordsEqual, wordsOf } from "./flat-json";

/**
 * Maps a name's UTF-8 bytes to an id without decoding a string per row: a hash table
 * in front of `idOf(name)`, which stays the single source of ids (rows that took the
 * JSON.parse path use it directly, and land on the same ids).
 */
export class ByteInterner {
  private slots = new Int32Array(256).fill(-1);
  private readonly entries: { bytes: Buffer; words: Int32Array; id: number }[] = [];

  constructor(private readonly idOf: (name: string) => number) {}

  id(buf: Buffer, s: number, e: number): number {
    return this.idWithHash(buf, new DataView(buf.buffer, buf.byteOffset, buf.length), s, e, fnv1a(buf, s, e));
  }

  /** id() when the caller already hashed the bytes with fnv1a; `view` is a DataView of all of buf. */
  idWithHash(buf: Buffer, view: DataView, s: number, e: number, h: number): number {
    const mask = this.slots.length - 1;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const entry = this.slots[slot]!;
      if (entry < 0) return this.insert(buf, s, e, slot);
      const known = this.entries[entry]!;
      if (known.bytes.length === e - s && wordsEqual(buf, view, s, known.bytes, known.words)) return known.id;
    }
  }

  private insert(buf: Buffer, s: number, e: number, slot: number): number {
    const bytes = Buffer.from(buf.subarray(s, e));
    const id = this.idOf(bytes.toString("utf8"));
    const words = wordsOf(bytes);
    this.slots[slot] = this.entries.length;
    this.entries.push({ bytes, words, id });
    if (this.entries.length * 2 > this.slots.length) this.rehash();
    return id;
  }

  private rehash(): void {
    this.slots = new Int32Array(this.slots.length * 2).fill(-1);
    const mask = this.slots.length - 1;
    this.entries.forEach((entry, index) => {
      let slot = fnv1a(entry.bytes, 0, entry.bytes.length) & mask;
      while (this.slots[slot]! >= 0) slot = (slot + 1) & mask;
      this.slots[slot] = index;
    });
  }
}

/** FNV-1a over buf[s, e), the same hash scanFlatObject takes of string values. */
export function fnv1a(buf: Uint8Array, s: number, e: number): number {
  let h = 0x811c9dc5 | 0;
  for (let p = s; p < e; p++) h = Math.imul(h ^ buf[p]!, 0x01000193);
  return h;
}

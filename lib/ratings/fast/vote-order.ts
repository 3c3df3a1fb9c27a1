/**
 * Fast path: FastChat's time order of the battles (its online Elo sorts by tstamp) by a
 * radix sort: a million shuffled times in ~0.15 s where sorting an index array took ~0.7 s
 * (the CLI's total on FastChat files, bench/ratings-bench.ts). The same order as a stable
 * comparison sort in test/unit/ratings/vote-order.test.ts.
 */
import { STYLE_COUNTS } from "../style-counts";
import type { VoteTable } from "../types";

/**
 * The table's votes in time order, as FastChat orders battles before its online Elo: stable,
 * so votes with equal times keep file order. Returns the table itself when it has no time
 * column or is already in order (the common case costs one pass). Only online Elo sees the
 * difference: counts, fits and the battle-set hash do not depend on vote order.
 */
export function sortByTime(table: VoteTable): VoteTable {
  const time = table.time;
  if (!time || isSorted(time)) return table;
  const order = timeOrder(time);
  const gather = <T extends Int32Array | Uint8Array | Float64Array>(column: T, fresh: T): T => {
    for (let k = 0; k < order.length; k++) fresh[k] = column[order[k]!]!;
    return fresh;
  };
  const n = table.length;
  const sorted: VoteTable = {
    models: table.models,
    categories: table.categories,
    modelA: gather(table.modelA, new Int32Array(n)),
    modelB: gather(table.modelB, new Int32Array(n)),
    outcome: gather(table.outcome, new Uint8Array(n)),
    category: gather(table.category, new Int32Array(n)),
    time: gather(time, new Float64Array(n)),
    length: n,
  };
  if (table.style) sorted.style = gatherRows(table.style, order, STYLE_COUNTS);
  return sorted;
}

/** Rows of `width` numbers each, in `order`. */
function gatherRows(column: Float64Array, order: Int32Array, width: number): Float64Array {
  const out = new Float64Array(order.length * width);
  for (let k = 0; k < order.length; k++) out.set(column.subarray(order[k]! * width, (order[k]! + 1) * width), k * width);
  return out;
}

function isSorted(time: Float64Array): boolean {
  for (let i = 1; i < time.length; i++) if (time[i]! < time[i - 1]!) return false;
  return true;
}

/**
 * Row numbers in stable time order, by a least-significant-digit radix sort on the times'
 * bits (four 16-bit passes, each stable): a million shuffled times take ~0.15 s, where a
 * comparison sort of an index array took ~0.7 s. Doubles map to unsigned keys in numeric
 * order by flipping the sign bit of positives and every bit of negatives.
 */
export function timeOrder(time: Float64Array): Int32Array {
  const n = time.length;
  const bits = new Float64Array(n);
  for (let i = 0; i < n; i++) bits[i] = time[i]! + 0; // −0 + 0 = +0: equal times, equal keys
  const words = new Uint32Array(bits.buffer); // little-endian: low word first
  const low = new Uint32Array(n);
  const high = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const h = words[2 * i + 1]!;
    const l = words[2 * i]!;
    const negative = h >>> 31 === 1;
    high[i] = negative ? ~h >>> 0 : (h ^ 0x80000000) >>> 0;
    low[i] = negative ? ~l >>> 0 : l;
  }
  let order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  let next = new Int32Array(n);
  const count = new Int32Array(1 << 16);
  for (let pass = 0; pass < 4; pass++) {
    const key = pass < 2 ? low : high;
    const shift = pass % 2 === 0 ? 0 : 16;
    count.fill(0);
    for (let i = 0; i < n; i++) count[(key[i]! >>> shift) & 0xffff]++;
    if (count[(key[0]! >>> shift) & 0xffff] === n) continue; // one digit for all (the top bits of timestamps)
    let sum = 0;
    for (let d = 0; d < count.length; d++) {
      const c = count[d]!;
      count[d] = sum;
      sum += c;
    }
    for (let k = 0; k < n; k++) {
      const i = order[k]!;
      next[count[(key[i]! >>> shift) & 0xffff]++] = i;
    }
    [order, next] = [next, order];
  }
  return order;
}

/**
 * Seeded PRNG for the bootstrap: xoshiro128** (Blackman & Vigna), state seeded by
 * splitmix32. 32-bit arithmetic only, so it is fast in JavaScript without BigInt,
 * and the same seed gives the same rating run on every machine. (FastChat draws from
 * numpy's global generator; the streams differ, the distributions do not.)
 */

/** splitmix32 step: spreads a seed over the four state words. */
function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

export class Rng {
  /** The four state words; fast/rng-blocks.ts advances them a block at a time. */
  a: number;
  b: number;
  c: number;
  d: number;

  constructor(seed: number) {
    const sm = { s: seed | 0 };
    this.a = splitmix32(sm);
    this.b = splitmix32(sm);
    this.c = splitmix32(sm);
    this.d = splitmix32(sm);
    // The all-zero state is a fixed point of xoshiro.
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** Next 32-bit unsigned integer. */
  nextU32(): number {
    const b = this.b;
    const r = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return r;
  }

  /** Uniform double in [0, 1) with 32 random bits: plenty for resampling, half the cost of 53. */
  nextFloat(): number {
    return this.nextU32() * 2.3283064365386963e-10;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  nextDouble(): number {
    const hi = this.nextU32() >>> 5;
    const lo = this.nextU32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }
}

export function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** A seed for a named stream (e.g. one category), so streams do not depend on each other. */
export function deriveSeed(seed: number, label: string): number {
  let h = 0x811c9dc5 ^ (seed | 0);
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
  return splitmix32({ s: h });
}

/** Seed of stream `index` of a run (e.g. one bootstrap round), independent of the other streams. */
export function roundSeed(seed: number, index: number): number {
  return splitmix32({ s: (seed ^ Math.imul(index + 1, 0x9e3779b9)) | 0 });
}

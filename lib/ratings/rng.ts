/**
 * Seeded PRNG for the bootstrap: xoshiro128** (Blackman & Vigna), state seeded by
 * splitmix32. 32-bit arithmetic only, so it is fast in JavaScript without BigInt,
 * and the same seed gives the same rating run on every machine.
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
  private a: number;
  private b: number;
  private c: number;
  private d: number;

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

  /**
   * out[0..count) = the next `count` nextDouble() values, the same sequence, several times
   * faster: the state stays in local int32 variables, where the fields would box every
   * update past 2³⁰ as a heap number.
   */
  fillDoubles(out: Float64Array, count = out.length): void {
    let a = this.a | 0;
    let b = this.b | 0;
    let c = this.c | 0;
    let d = this.d | 0;
    for (let i = 0; i < count; i++) {
      let t = b << 9;
      const first = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 5;
      c ^= a;
      d ^= b;
      b ^= c;
      a ^= d;
      c ^= t;
      d = rotl(d, 11);
      t = b << 9;
      const second = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 6;
      c ^= a;
      d ^= b;
      b ^= c;
      a ^= d;
      c ^= t;
      d = rotl(d, 11);
      out[i] = (first * 67108864 + second) / 9007199254740992;
    }
    this.a = a;
    this.b = b;
    this.c = c;
    this.d = d;
  }

  /** out[0..count) = the next `count` nextU32() values, as int32 bit patterns (`>>> 0` reads one back). */
  fillWords(out: Int32Array, count = out.length): void {
    let a = this.a | 0;
    let b = this.b | 0;
    let c = this.c | 0;
    let d = this.d | 0;
    for (let i = 0; i < count; i++) {
      const t = b << 9;
      out[i] = Math.imul(rotl(Math.imul(b, 5), 7), 9);
      c ^= a;
      d ^= b;
      b ^= c;
      a ^= d;
      c ^= t;
      d = rotl(d, 11);
    }
    this.a = a;
    this.b = b;
    this.c = c;
    this.d = d;
  }
}

function rotl(x: number, k: number): number {
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

/**
 * Fast path: Rng.nextU32() a block at a time. Speeds up the style bootstrap's redraw of every
 * battle (fast/style-rounds.ts), which takes 12 bits per battle from a million words a round:
 * the state stays in local int32 variables, where the object's fields would box every update
 * past 2³⁰ as a heap number. Justified by the style-control rows of bench/ratings-bench.ts
 * (bench/results/ratings-style-*.json: the rounds of a linearised bootstrap); pinned to
 * nextU32() in test/unit/ratings/bootstrap.test.ts.
 */
import { rotl as rotate, type Rng } from "../core/rng";

// A local copy: under a CommonJS transform (tsx) each read of an imported binding is a getter call.
const rotl = rotate;

/** out[0..count) = the next `count` rng.nextU32() values, as int32 bit patterns (`>>> 0` reads one back). */
export function fillWords(rng: Rng, out: Int32Array, count = out.length): void {
  let a = rng.a | 0;
  let b = rng.b | 0;
  let c = rng.c | 0;
  let d = rng.d | 0;
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
  rng.a = a;
  rng.b = b;
  rng.c = c;
  rng.d = d;
}

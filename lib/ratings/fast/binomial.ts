/**
 * Fast path: exact binomial draws in constant time (BTPE), for the multinomial redraw of
 * the plain bootstrap (multinomial.ts: its large cells and group sizes). Part of the "compute s"
 * column of bench/ratings-bench.ts (bench/results/ratings-*.json); its draws are checked against
 * the binomial mean, variance and pmf in test/unit/ratings/bootstrap.test.ts.
 */
import type { Rng } from "../core/rng";

/**
 * Exact binomial sampling, as numpy does it: inversion when n·min(p, 1−p) ≤ 30
 * (a few steps on average), BTPE (Kachitvichyanukul & Schmeiser, 1988) above, whose
 * cost does not grow with n·p. The bootstrap draws ~15k binomials per round, most
 * with n·p in the tens to thousands, so a linear-time sampler would dominate a run.
 * Uniforms carry 32 random bits (see Rng.nextFloat).
 */
export function binomial(rng: Rng, n: number, p: number): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  if (p <= 0.5) return p * n <= 30 ? inversion(rng, n, p) : btpe(rng, n, p);
  const q = 1 - p;
  return q * n <= 30 ? n - inversion(rng, n, q) : btpe(rng, n, p);
}

/** 1/x for small x: the inversion loop's only division, looked up instead. */
const RECIPROCAL = Float64Array.from({ length: 128 }, (_, x) => (x === 0 ? 0 : 1 / x));

function inversion(rng: Rng, n: number, p: number): number {
  const q = 1 - p;
  const qn = Math.pow(q, n);
  const np = n * p;
  const bound = Math.min(n, np + 10 * Math.sqrt(np * q + 1));
  // P(x) / P(x − 1) = (n − x + 1)·p / (x·q) = a / x − s
  const s = p / q;
  const a = (n + 1) * s;
  let x = 0;
  let px = qn;
  let u = rng.nextFloat();
  while (u > px) {
    x++;
    if (x > bound) {
      x = 0;
      px = qn;
      u = rng.nextFloat();
    } else {
      u -= px;
      px *= a * (x < 128 ? RECIPROCAL[x]! : 1 / x) - s;
    }
  }
  return x;
}

/** Stirling-series correction used by BTPE's final acceptance test. */
function stirlingTail(x: number): number {
  const x2 = x * x;
  return (13680 - (462 - (132 - (99 - 140 / x2) / x2) / x2) / x2) / x / 166320;
}

function btpe(rng: Rng, n: number, p: number): number {
  const r = Math.min(p, 1 - p);
  const q = 1 - r;
  const fm = n * r + r;
  const m = Math.floor(fm);
  const nrq = n * r * q;
  const p1 = Math.floor(2.195 * Math.sqrt(nrq) - 4.6 * q) + 0.5;
  const xm = m + 0.5;
  const xl = xm - p1;
  const xr = xm + p1;
  const c = 0.134 + 20.5 / (15.3 + m);
  let a = (fm - xl) / (fm - xl * r);
  const laml = a * (1 + a / 2);
  a = (xr - fm) / (xr * q);
  const lamr = a * (1 + a / 2);
  const p2 = p1 * (1 + 2 * c);
  const p3 = p2 + c / laml;
  const p4 = p3 + c / lamr;

  for (;;) {
    const u = rng.nextFloat() * p4;
    let v = rng.nextFloat();
    let y: number;
    if (u <= p1) {
      // Triangular centre: accepted at once.
      y = Math.floor(xm - p1 * v + u);
      return p > 0.5 ? n - y : y;
    }
    if (u <= p2) {
      const x = xl + (u - p1) / c;
      v = v * c + 1 - Math.abs(m - x + 0.5) / p1;
      if (v > 1) continue;
      y = Math.floor(x);
    } else if (u <= p3) {
      y = Math.floor(xl + Math.log(v) / laml);
      if (y < 0 || v === 0) continue;
      v = v * (u - p2) * laml;
    } else {
      y = Math.floor(xr - Math.log(v) / lamr);
      if (y > n || v === 0) continue;
      v = v * (u - p3) * lamr;
    }

    const k = Math.abs(y - m);
    if (k <= 20 || k >= nrq / 2 - 1) {
      // Explicit ratio f(y)/f(m) by recursion.
      const s = r / q;
      const aa = s * (n + 1);
      let f = 1;
      if (m < y) for (let i = m + 1; i <= y; i++) f *= aa / i - s;
      else if (m > y) for (let i = y + 1; i <= m; i++) f /= aa / i - s;
      if (v > f) continue;
      return p > 0.5 ? n - y : y;
    }

    // Squeeze, then the Stirling-based log-ratio test.
    const rho = (k / nrq) * ((k * (k / 3 + 0.625) + 0.16666666666666666) / nrq + 0.5);
    const t = (-k * k) / (2 * nrq);
    const logV = Math.log(v);
    if (logV < t - rho) return p > 0.5 ? n - y : y;
    if (logV > t + rho) continue;
    const x1 = y + 1;
    const f1 = m + 1;
    const z = n + 1 - m;
    const w = n - y + 1;
    const bound =
      xm * Math.log(f1 / x1) +
      (n - m + 0.5) * Math.log(z / w) +
      (y - m) * Math.log((w * r) / (x1 * q)) +
      stirlingTail(f1) +
      stirlingTail(z) +
      stirlingTail(x1) +
      stirlingTail(w);
    if (logV > bound) continue;
    return p > 0.5 ? n - y : y;
  }
}

/**
 * Multinomial draw of `total` items over cells with integer weights, by conditional
 * binomials: cell k gets Binomial(remaining items, weight_k / remaining weight).
 * Exact, and costs one binomial per cell instead of one step per item.
 */
export function multinomial(rng: Rng, total: number, weights: Float64Array, out: Float64Array): void {
  let remainingItems = total;
  let remainingWeight = 0;
  for (let k = 0; k < weights.length; k++) remainingWeight += weights[k]!;
  for (let k = 0; k < weights.length; k++) {
    const w = weights[k]!;
    if (remainingItems === 0 || w >= remainingWeight) {
      out[k] = remainingItems;
      remainingItems = 0;
      for (let j = k + 1; j < weights.length; j++) out[j] = 0;
      return;
    }
    const x = binomial(rng, remainingItems, w / remainingWeight);
    out[k] = x;
    remainingItems -= x;
    remainingWeight -= w;
  }
}

import type { ModelRating } from "../ratings";

// A stored rating run is JSON, where the open side of an unbounded model's interval (±∞) and
// the rating of a model with no bound at all (NaN) come back as null. Pages print them here.

export type StoredRating = Pick<ModelRating, "bound"> & { bt: number | null; ciLow: number | null; ciHigh: number | null };

function finite(value: number | null | undefined): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

/** "1234"; "> 1234" for a model that never lost (only a lower bound exists); "< 567"; "–". */
export function ratingLabel(r: StoredRating): string {
  if (!finite(r.bt)) return "–";
  const value = Math.round(r.bt);
  if (r.bound === "upper-open") return `> ${value}`;
  if (r.bound === "lower-open") return `< ${value}`;
  return String(value);
}

/** "1200 – 1300", open sides as ∞: "1200 – ∞", "−∞ – 567", "−∞ – ∞". */
export function intervalLabel(r: StoredRating): string {
  const low = finite(r.ciLow) ? String(Math.round(r.ciLow)) : "−∞";
  const high = finite(r.ciHigh) ? String(Math.round(r.ciHigh)) : "∞";
  return `${low} – ${high}`;
}

/**
 * The span interval bars are drawn in: every finite value, with room on both sides so a bar
 * from a bound to an open side (drawn to the edge, ending in an arrow) is never a dot.
 */
export function intervalSpan(rows: readonly StoredRating[]): { lo: number; hi: number } {
  const values = rows.flatMap((r) => [r.ciLow, r.ciHigh, r.bt]).filter(finite);
  if (values.length === 0) return { lo: 0, hi: 0 };
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const pad = Math.max((hi - lo) * 0.1, 25);
  return { lo: lo - pad, hi: hi + pad };
}

/**
 * One row's bar inside `span`, in percent: an open side reaches 0 % or 100 % (drawn as an
 * arrow), and the estimate is marked only where a finite rating exists (not at a bound).
 */
export type IntervalBar = { left: number; width: number; openLow: boolean; openHigh: boolean; estimate: number | null };

export function intervalBar(r: StoredRating, { lo, hi }: { lo: number; hi: number }): IntervalBar {
  const pos = (v: number) => (hi > lo ? Math.min(100, Math.max(0, ((v - lo) / (hi - lo)) * 100)) : 50);
  const openLow = !finite(r.ciLow);
  const openHigh = !finite(r.ciHigh);
  const left = finite(r.ciLow) ? pos(r.ciLow) : 0;
  const right = finite(r.ciHigh) ? pos(r.ciHigh) : 100;
  const estimate = r.bound === null && finite(r.bt) ? pos(r.bt) : null;
  return { left, width: Math.max(0.5, right - left), openLow, openHigh, estimate };
}

/** A point for charts: null where the value does not exist (charts skip it). */
export function chartValue(value: number | null | undefined): number | null {
  return finite(value) ? Math.round(value) : null;
}

/** Round values across `span` to label an axis: the step of 1, 2 or 5 × 10^k giving closest to `count` of them. */
export function axisTicks({ lo, hi }: { lo: number; hi: number }, count = 5): number[] {
  if (!(hi > lo)) return [];
  const rough = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(rough));
  const steps = [1, 2, 5, 10].map((k) => k * power);
  const step = steps.reduce((best, s) => (Math.abs((hi - lo) / s - count) < Math.abs((hi - lo) / best - count) ? s : best));
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi; v += step) ticks.push(Math.round(v));
  return ticks;
}

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

/** The finite span every row's interval bar is drawn in (open sides run to its edge). */
export function intervalSpan(rows: readonly StoredRating[]): { lo: number; hi: number } {
  const values = rows.flatMap((r) => [r.ciLow, r.ciHigh, r.bt]).filter(finite);
  return values.length ? { lo: Math.min(...values), hi: Math.max(...values) } : { lo: 0, hi: 0 };
}

/** Percent positions of one row's bar inside `span`: an open side reaches 0 % or 100 %. */
export function intervalBar(r: StoredRating, { lo, hi }: { lo: number; hi: number }): { left: number; width: number } {
  const pos = (v: number | null, open: number) => (!finite(v) ? open : hi > lo ? ((v - lo) / (hi - lo)) * 100 : 50);
  const left = pos(r.ciLow, 0);
  return { left, width: Math.max(1, pos(r.ciHigh, 100) - left) };
}

/** A point for charts: null where the value does not exist (charts skip it). */
export function chartValue(value: number | null | undefined): number | null {
  return finite(value) ? Math.round(value) : null;
}

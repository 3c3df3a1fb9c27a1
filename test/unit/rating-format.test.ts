import { describe, expect, it } from "vitest";
import { axisTicks, chartValue, intervalBar, intervalLabel, intervalSpan, ratingLabel, type StoredRating } from "@/lib/arena/rating-format";

// What a stored (JSON) rating run gives back: ±∞ and NaN arrive as null.
const rated: StoredRating = { bt: 1012.4, ciLow: 980.2, ciHigh: 1049.6, bound: null };
const neverLost: StoredRating = { bt: 1446.3, ciLow: 1446.3, ciHigh: null, bound: "upper-open" };
const neverWon: StoredRating = { bt: 600.2, ciLow: null, ciHigh: 600.2, bound: "lower-open" };
const unrated: StoredRating = { bt: null, ciLow: null, ciHigh: null, bound: "open" };

describe("rating labels", () => {
  it("prints a finite rating, or the one bound that exists", () => {
    expect([rated, neverLost, neverWon, unrated].map(ratingLabel)).toEqual(["1012", "> 1446", "< 600", "–"]);
  });

  it("prints open sides of an interval as infinity", () => {
    expect([rated, neverLost, neverWon, unrated].map(intervalLabel)).toEqual(["980 – 1050", "1446 – ∞", "−∞ – 600", "−∞ – ∞"]);
  });

  it("draws what exists: finite intervals as bars with their rating, open sides to the edge, never a dot at a bound", () => {
    const span = intervalSpan([rated, neverLost, neverWon, unrated]);
    // Every finite value, with a tenth of the range spare on each side for the open sides' arrows.
    const pad = (1446.3 - 600.2) * 0.1;
    expect(span.lo).toBeCloseTo(600.2 - pad, 9);
    expect(span.hi).toBeCloseTo(1446.3 + pad, 9);
    const at = (v: number) => ((v - span.lo) / (span.hi - span.lo)) * 100;
    const lost = intervalBar(neverLost, span);
    expect([lost.openLow, lost.openHigh, lost.estimate]).toEqual([false, true, null]);
    expect(lost.left).toBeCloseTo(at(1446.3), 9);
    expect(lost.left + lost.width).toBeCloseTo(100, 9);
    expect(lost.width).toBeGreaterThan(5); // a bar from the bound to the edge, not a point
    const won = intervalBar(neverWon, span);
    expect([won.left, won.openLow, won.openHigh, won.estimate]).toEqual([0, true, false, null]);
    expect(won.width).toBeCloseTo(at(600.2), 9);
    const bar = intervalBar(rated, span);
    expect([bar.openLow, bar.openHigh]).toEqual([false, false]);
    expect(bar.left).toBeCloseTo(at(980.2), 9);
    expect(bar.left + bar.width).toBeCloseTo(at(1049.6), 9);
    expect(bar.estimate).toBeCloseTo(at(1012.4), 9);
    expect(intervalBar(unrated, span)).toEqual({ left: 0, width: 100, openLow: true, openHigh: true, estimate: null });
  });

  it("gives one rating room of its own, and nothing to draw without a finite value", () => {
    expect(intervalSpan([{ bt: 1000, ciLow: 1000, ciHigh: 1000, bound: null }])).toEqual({ lo: 975, hi: 1025 });
    expect(intervalSpan([unrated])).toEqual({ lo: 0, hi: 0 });
  });

  it("labels an axis with round steps", () => {
    expect(axisTicks({ lo: 512, hi: 1530 })).toEqual([600, 800, 1000, 1200, 1400]);
    expect(axisTicks({ lo: 975, hi: 1025 })).toEqual([980, 990, 1000, 1010, 1020]);
    expect(axisTicks({ lo: 0, hi: 0 })).toEqual([]);
  });

  it("leaves missing values out of charts", () => {
    expect([chartValue(1012.4), chartValue(null), chartValue(Number.NaN), chartValue(Infinity)]).toEqual([1012, null, null, null]);
  });
});

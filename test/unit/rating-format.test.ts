import { describe, expect, it } from "vitest";
import { chartValue, intervalBar, intervalLabel, intervalSpan, ratingLabel, type StoredRating } from "@/lib/arena/rating-format";

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

  it("draws bars inside the finite span, open sides to the edge", () => {
    const span = intervalSpan([rated, neverLost, neverWon, unrated]);
    expect(span).toEqual({ lo: 600.2, hi: 1446.3 });
    expect(intervalBar(neverLost, span)).toEqual({ left: 100, width: 1 });
    expect(intervalBar(neverWon, span)).toEqual({ left: 0, width: 1 });
    const bar = intervalBar(rated, span);
    expect(bar.left).toBeCloseTo(((980.2 - 600.2) / (1446.3 - 600.2)) * 100, 9);
    expect(bar.left + bar.width).toBeCloseTo(((1049.6 - 600.2) / (1446.3 - 600.2)) * 100, 9);
    expect(intervalBar(unrated, span)).toEqual({ left: 0, width: 100 });
  });

  it("leaves missing values out of charts", () => {
    expect([chartValue(1012.4), chartValue(null), chartValue(Number.NaN), chartValue(Infinity)]).toEqual([1012, null, null, null]);
  });
});

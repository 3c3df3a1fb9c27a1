import type { StyleCounts } from "./types";

/** Numbers per vote in VoteTable.style: four counts for side A, then four for side B. */
export const STYLE_COUNTS = 8;

/** The four style features, in the order of StyleCounts and of the fitted coefficients. */
export const STYLE_FEATURES = ["length", "headers", "lists", "bold"] as const;
export type StyleFeature = (typeof STYLE_FEATURES)[number];

/**
 * FastChat's conv_metadata keys for the four counts of each side (STYLE_CONTROL_ELEMENTS_V1):
 * a number, or an object whose values are summed (headers h1–h6, ordered and unordered lists,
 * ** and __ bold).
 */
export const FASTCHAT_STYLE_KEYS = [
  "sum_assistant_a_tokens",
  "header_count_a",
  "list_count_a",
  "bold_count_a",
  "sum_assistant_b_tokens",
  "header_count_b",
  "list_count_b",
  "bold_count_b",
] as const;

/** Leitai's vote export: the same eight counts as flat number fields. */
export const LEITAI_STYLE_KEYS = ["tokensA", "headersA", "listsA", "boldA", "tokensB", "headersB", "listsB", "boldB"] as const;

/** A count field's value as FastChat reads it: the number, or the sum of an object's numbers; NaN when neither. */
export function styleCount(value: unknown): number {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? value : NaN;
  if (typeof value !== "object" || value === null || Array.isArray(value)) return NaN;
  let sum = 0;
  for (const part of Object.values(value)) {
    if (typeof part !== "number" || !Number.isFinite(part) || part < 0) return NaN;
    sum += part;
  }
  return sum;
}

/** [A's four counts, B's four counts] as a RatedVote's style. */
export function styleOf(counts: ArrayLike<number>): { a: StyleCounts; b: StyleCounts } {
  return { a: [counts[0]!, counts[1]!, counts[2]!, counts[3]!], b: [counts[4]!, counts[5]!, counts[6]!, counts[7]!] };
}

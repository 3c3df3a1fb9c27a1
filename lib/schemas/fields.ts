import { z } from "zod";

// Field shapes the admin schemas share. Messages are keys of the formErrors catalogue.

/** A number; anything else (an empty box, text, NaN) reads "numberNeeded". */
export const number = () => z.number({ error: (issue) => (issue.code === "invalid_type" ? "numberNeeded" : undefined) });

/** A whole number from `min` to `max`. */
export const wholeNumber = (min: number, max: number) => number().int("wholeNumber").min(min, "tooSmall").max(max, "tooLarge");

/** A box's text as a number: empty is `empty` (null or undefined), anything else as Number() reads it (NaN is refused). */
export function numberFromText(text: unknown, empty: number | null | undefined): unknown {
  if (typeof text !== "string") return text;
  return text.trim() === "" ? empty : Number(text);
}

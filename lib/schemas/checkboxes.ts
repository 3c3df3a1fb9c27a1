import { z } from "zod";

/**
 * A checkbox group's values as a list. react-hook-form gives a group of one checkbox as that
 * box's value, or false when unchecked; an API client may leave it out.
 */
export function checkboxes<T extends z.ZodType>(list: T) {
  return z.preprocess((value) => (Array.isArray(value) ? value : typeof value === "string" ? [value] : value === false || value === undefined ? [] : value), list);
}

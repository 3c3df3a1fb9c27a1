import { createHash } from "node:crypto";

/**
 * Normalised form used for de-duplication: NFKC (full-width → half-width), lower case,
 * whitespace collapsed, trailing punctuation dropped — "Hello？" and "hello?" collide.
 */
export function normaliseQuestionText(text: string): string {
  return text
    .normalize("NFKC")
    .toLowerCase()
    .replace(/\s+/g, " ")
    .trim()
    .replace(/[\s.!?。！？…]+$/u, "");
}

export function questionTextHash(text: string): string {
  return createHash("sha256").update(normaliseQuestionText(text)).digest("hex");
}

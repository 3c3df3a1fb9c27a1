import { createHash } from "node:crypto";
import { Tiktoken } from "js-tiktoken/lite";
import cl100k from "js-tiktoken/ranks/cl100k_base";
import type { StyleCounts } from "../ratings";

/**
 * The style of one answer as FastChat's conv_metadata counts it for style control: tokens
 * (cl100k_base, the tokenizer FastChat counts with, so Leitai's coefficients read like
 * Chatbot Arena's), and outside fenced code blocks, markdown headers (#–###### then a space at
 * a line start), list items ("1. ", "- ", "* ", "+ ") and bold spans (**…** and __…__).
 */
export type AnswerStyle = { tokens: number; headers: number; lists: number; bold: number };

let encoder: Tiktoken | undefined;

/** Counts for one answer text. The encoder (≈ 1 MB of ranks, shipped in the package) loads on first use. */
export function answerStyle(text: string): AnswerStyle {
  encoder ??= new Tiktoken(cl100k);
  const prose = text.replace(/```[^`]*```/g, "");
  const count = (pattern: RegExp) => prose.match(pattern)?.length ?? 0;
  return {
    tokens: encoder.encode(text, [], []).length,
    headers: count(/^#{1,6}\s/gm),
    lists: count(/^\s*\d+\.\s/gm) + count(/^\s*[-*+]\s/gm),
    bold: count(/\*\*[^*\n]+\*\*/g) + count(/__[^_\n]+__/g),
  };
}

/** One side of a battle: its answers' counts summed over the turns. */
export function sideStyle(answers: readonly AnswerStyle[]): StyleCounts {
  const sum = (key: keyof AnswerStyle) => answers.reduce((total, answer) => total + answer[key], 0);
  return [sum("tokens"), sum("headers"), sum("lists"), sum("bold")];
}

/** A stored Generation.styleCounts value, or null when absent or not of this shape (then recomputed). */
export function parseAnswerStyle(value: unknown): AnswerStyle | null {
  if (typeof value !== "object" || value === null) return null;
  const v = value as Record<string, unknown>;
  const ok = (x: unknown) => typeof x === "number" && Number.isInteger(x) && x >= 0;
  return ok(v.tokens) && ok(v.headers) && ok(v.lists) && ok(v.bold) ? { tokens: v.tokens as number, headers: v.headers as number, lists: v.lists as number, bold: v.bold as number } : null;
}

/** Characters of the voter's turns a prompt's identity rests on (FastChat keys on the turns' text too). */
const PROMPT_KEY_CHARS = 10_000;

/**
 * The identity of a live battle's prompt for de-duplication: its user turns, NFKC-normalised,
 * lower-cased and with runs of white space made one space, hashed.
 */
export function promptKey(turns: readonly string[]): string {
  const text = turns
    .map((turn) => turn.normalize("NFKC").toLowerCase().replace(/\s+/g, " ").trim())
    .join("\n")
    .slice(0, PROMPT_KEY_CHARS);
  return createHash("sha256").update(text).digest("hex");
}

/**
 * Which votes prompt de-duplication leaves out of the ratings: of the votes whose prompt has
 * more than `threshold` of them, all but `threshold`, keeping those with the smallest
 * sha256(vote id) — a fixed choice, so the same votes give the same run. threshold 0: none.
 * Votes without a key (bank questions, asked many times by design) are never left out.
 */
export function duplicatePromptVotes(votes: readonly { id: string; promptKey: string | null }[], threshold: number): Set<string> {
  const excluded = new Set<string>();
  if (threshold <= 0) return excluded;
  const byPrompt = new Map<string, { id: string; rank: string }[]>();
  for (const vote of votes) {
    if (vote.promptKey === null) continue;
    const group = byPrompt.get(vote.promptKey) ?? [];
    group.push({ id: vote.id, rank: createHash("sha256").update(vote.id).digest("hex") });
    byPrompt.set(vote.promptKey, group);
  }
  for (const group of byPrompt.values()) {
    if (group.length <= threshold) continue;
    group.sort((x, y) => (x.rank < y.rank ? -1 : x.rank > y.rank ? 1 : 0));
    for (const vote of group.slice(threshold)) excluded.add(vote.id);
  }
  return excluded;
}

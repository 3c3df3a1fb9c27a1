/**
 * Reads a judge model's output (templates.ts formats) into a verdict.
 *
 * Rules, in order:
 *  1. Width folding only: full-width ASCII (［］，Ａ０ …) becomes ASCII and 【 】 become [ ];
 *     nothing else is rewritten, so character positions match the original text.
 *  2. A marker is `[[…]]` on one line with at most 40 characters inside. Markdown around
 *     it (**[[A]]**, `[[A]]`, code fences, trailing punctuation) does not matter.
 *  3. The LAST marker in the output is the verdict; earlier ones are reasoning ("[[A]] would
 *     mean …"). If that marker is malformed for the kind, the output is an error — we do not
 *     fall back to an earlier one, since the judge's final answer is the one that failed.
 *  4. If the final marker's line holds another marker with a different meaning
 *     ("[[A]] or [[B]]"), the output is an error.
 *  5. No marker → error. Verdicts are never guessed from prose: "A更好" or "平局" outside a
 *     marker is ignored, because reasoning mentions such phrases about single aspects.
 *
 * Pairwise marker contents (case-insensitive, markdown emphasis/quotes stripped):
 *   A | B                       → that side
 *   C | tie | draw | 平局 | 平手 → tie
 * Score10 marker contents: two numbers separated by "," "，" "、" ";" or "/", each an
 *   INTEGER in 0–10 ("７，９" after folding is fine; 7.0 counts as 7). Decimals such as 7.5,
 *   values outside 0–10 and a single score are errors: the prompt asks for integers 0–10, so
 *   anything else means the judge did not follow the format. Higher score wins; equal → tie.
 *
 * The reason is the original text before the final marker, trimmed, at most 500 characters.
 */

import type { JudgeKind } from "./templates";

export type JudgeVerdict = "A" | "B" | "tie";

export interface ParsedVerdict {
  verdict: JudgeVerdict;
  /** score10 only: [A's score, B's score]. */
  scores?: [number, number];
  reason: string;
}

export type VerdictResult = ParsedVerdict | { error: string };

export const MAX_REASON_CHARS = 500;
export const MAX_SCORE = 10;

/** Length-preserving width fold (each UTF-16 unit maps to one unit). */
export function foldWidth(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xff01 && c <= 0xff5e) out += String.fromCharCode(c - 0xfee0);
    else if (c === 0x3000) out += " ";
    else if (c === 0x3010) out += "[";
    else if (c === 0x3011) out += "]";
    else if (c === 0x3001) out += ","; // 、 as a score separator
    else if (c === 0x2212) out += "-"; // minus sign, so "−1" reads as out of range
    else out += text[i];
  }
  return out;
}

const MARKER = /\[\[([^[\]\n]{0,40})\]\]/g;

interface Marker {
  start: number;
  end: number;
  inner: string;
}

type Reading = { verdict: JudgeVerdict; scores?: [number, number] } | { error: string };

const TIE_WORDS = new Set(["c", "tie", "draw", "平局", "平手"]);

/** Emphasis, quotes and stray punctuation a judge may put inside the brackets. */
function stripDecoration(inner: string): string {
  return inner.replace(/^[\s*_`"'“”‘’.:;,!?。！？：]+|[\s*_`"'“”‘’.:;,!?。！？：]+$/g, "");
}

function readPairwise(inner: string): Reading {
  const token = stripDecoration(inner).toLowerCase();
  if (token === "a") return { verdict: "A" };
  if (token === "b") return { verdict: "B" };
  if (TIE_WORDS.has(token)) return { verdict: "tie" };
  return { error: `malformed verdict marker [[${inner}]]: expected [[A]], [[B]] or [[C]]` };
}

const NUMBER = "([+-]?\\d+(?:\\.\\d+)?)";
const SCORE_PAIR = new RegExp(`^${NUMBER}\\s*[,;/]\\s*${NUMBER}$`);
const SINGLE_NUMBER = new RegExp(`^${NUMBER}$`);

function readScore(text: string): number | string {
  const value = Number(text);
  if (!Number.isInteger(value)) return `score ${text} is not an integer`;
  if (value < 0 || value > MAX_SCORE) return `score ${text} is outside 0–${MAX_SCORE}`;
  return value === 0 ? 0 : value; // no −0
}

function readScore10(inner: string): Reading {
  const body = stripDecoration(inner);
  const pair = SCORE_PAIR.exec(body);
  if (!pair) {
    if (SINGLE_NUMBER.test(body)) return { error: `a single score [[${inner}]]: expected two scores like [[7, 9]]` };
    return { error: `malformed score marker [[${inner}]]: expected two scores like [[7, 9]]` };
  }
  const a = readScore(pair[1]!);
  const b = readScore(pair[2]!);
  if (typeof a === "string") return { error: a };
  if (typeof b === "string") return { error: b };
  return { verdict: a > b ? "A" : a < b ? "B" : "tie", scores: [a, b] };
}

function sameReading(x: Reading, y: Reading): boolean {
  if ("error" in x || "error" in y) return false;
  return x.verdict === y.verdict && x.scores?.[0] === y.scores?.[0] && x.scores?.[1] === y.scores?.[1];
}

/** At most `max` characters (code points), an ellipsis marking a cut. */
export function truncateReason(text: string, max = MAX_REASON_CHARS): string {
  if (text.length <= max) return text;
  const points = Array.from(text.slice(0, 2 * max));
  if (points.length <= max) return text.slice(0, 2 * max);
  return points.slice(0, max - 1).join("") + "…";
}

/** The judge's reasoning before the final marker, minus a dangling "Final verdict:" label or markdown. */
function reasonBefore(original: string, end: number): string {
  return original
    .slice(0, end)
    .replace(/[\s*_`#>:：-]+$/u, "")
    .trim();
}

export function parseVerdict(kind: JudgeKind, output: string): VerdictResult {
  if (typeof output !== "string" || output.trim() === "") return { error: "empty output" };
  const folded = foldWidth(output);
  const markers: Marker[] = [];
  for (const m of folded.matchAll(MARKER)) markers.push({ start: m.index, end: m.index + m[0].length, inner: m[1]! });
  if (markers.length === 0) return { error: "unparseable: no [[…]] verdict marker" };

  const read = kind === "pairwise" ? readPairwise : readScore10;
  const last = markers[markers.length - 1]!;
  const reading = read(last.inner);
  if ("error" in reading) return reading;

  // Other markers on the final marker's line must agree with it.
  const lineStart = folded.lastIndexOf("\n", last.start - 1) + 1;
  for (const other of markers) {
    if (other === last || other.start < lineStart) continue;
    if (!sameReading(read(other.inner), reading)) {
      return { error: `conflicting markers on the final line: [[${other.inner}]] and [[${last.inner}]]` };
    }
  }
  // Reason: text before the first marker on the final line, so a repeated marker is not quoted.
  const firstOnLine = markers.find((m) => m.start >= lineStart)!;
  const reason = truncateReason(reasonBefore(output, firstOnLine.start));
  return reading.scores ? { verdict: reading.verdict, scores: reading.scores, reason } : { verdict: reading.verdict, reason };
}

export function isVerdictError(result: VerdictResult): result is { error: string } {
  return "error" in result;
}

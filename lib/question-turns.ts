import type { ChatMessage } from "./pipeline/contracts";

// Multi-turn bank questions. A question's `text` is always its first user turn (its textHash,
// duplicates and reveals go by it, as for any question); a multi-turn question also stores every
// user turn in order in `turns` (turns[0] = text, at least two), a single-turn one null.
//
// Files carry the turns as:
// - JSONL: `"turns": ["first user turn", "second", ...]`; with turns, `text` may be left out and
//   otherwise must equal turns[0].
// - CSV: a `turns` column holding the same JSON array of strings (empty for a single-turn
//   question); the `text` column may then be empty and otherwise must equal turns[0].
// A list of one turn is a single-turn question.

export const MAX_TURNS = 8;

/** A question's user turns in order: its stored turns, or its text alone. */
export function userTurnsOf(question: { text: string; turns: unknown }): string[] {
  return Array.isArray(question.turns) && question.turns.length > 1 ? (question.turns as string[]) : [question.text];
}

/** What a stored question keeps in `turns` for these user turns: null for one turn. */
export function storedTurns(turns: string[]): string[] | null {
  return turns.length > 1 ? turns : null;
}

/** What is wrong with a row's turns: its key in the adminImportIssues catalogue section, and the values it names. */
export type TurnsError = { key: "turnsNotJson" | "turnsNotList" | "turnEmpty" | "tooManyTurns" | "turnTooLong"; values?: Record<string, number> };
export type ParsedTurns = { turns: string[] | null; error: TurnsError | null };

/**
 * A row's `turns` value: a JSON array of non-empty strings (JSONL gives the array, CSV a cell
 * holding its JSON text). Absent or empty: { turns: null }. Each turn is trimmed.
 */
export function parseTurns(value: unknown, { maxChars }: { maxChars: number }): ParsedTurns {
  if (value === undefined || value === null || value === "") return { turns: null, error: null };
  let list: unknown = value;
  if (typeof list === "string") {
    try { list = JSON.parse(list); } catch { return { turns: null, error: { key: "turnsNotJson" } }; }
  }
  if (!Array.isArray(list) || list.length === 0 || list.some((t) => typeof t !== "string")) {
    return { turns: null, error: { key: "turnsNotList" } };
  }
  const turns = (list as string[]).map((t) => t.trim());
  if (turns.some((t) => t === "")) return { turns: null, error: { key: "turnEmpty" } };
  if (turns.length > MAX_TURNS) return { turns: null, error: { key: "tooManyTurns", values: { max: MAX_TURNS } } };
  const long = turns.findIndex((t) => t.length > maxChars);
  if (long >= 0) return { turns: null, error: { key: "turnTooLong", values: { turn: long + 1, max: maxChars } } };
  return { turns, error: null };
}

/** The messages that ask user turn `turn`: every earlier user turn followed by the model's own answer to it. */
export function turnMessages(userTurns: string[], answers: string[], turn: number): ChatMessage[] {
  const messages: ChatMessage[] = [];
  for (let i = 0; i < turn; i++) messages.push({ role: "user", content: userTurns[i]! }, { role: "assistant", content: answers[i]! });
  messages.push({ role: "user", content: userTurns[turn]! });
  return messages;
}

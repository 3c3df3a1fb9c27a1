// Checks every client input gets before any schema sees it, shared by the Next.js handlers
// (lib/http.ts) and the vote fast path (lib/web/vote-fast-path.ts). PostgreSQL text cannot
// hold NUL, so one in an id or a field used to reach the database and come back as a 500;
// a lone UTF-16 surrogate has no UTF-8 form and would be stored as U+FFFD.
import { z, type ZodType } from "zod";
import { errors } from "./errors";
import { sayError, type ErrorMessage } from "./i18n";

export const INT32_MAX = 2_147_483_647;

// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** What can be wrong with text a client sent: the errors catalogue keys that say so, for a value and for a key. */
export const TEXT_PROBLEM_KEYS = ["textNul", "textSurrogate", "keyNul", "keySurrogate"] as const;
type TextProblem = "nul" | "surrogate";

/** What is wrong with a string a client sent, or null when it can be stored as text. */
export function textProblem(text: string): TextProblem | null {
  if (text.includes("\u0000")) return "nul";
  if (LONE_SURROGATE.test(text)) return "surrogate";
  return null;
}

/** A field whose text could not be stored: its catalogue message (`key`, `values`) and that message in English. */
export type TextProblemFound = { field: string; key: (typeof TEXT_PROBLEM_KEYS)[number]; values: { field: string }; message: string };

function found(field: string, key: TextProblemFound["key"]): TextProblemFound {
  const said = { key, values: { field } } satisfies ErrorMessage;
  return { field, ...said, message: sayError("en", said) };
}

/**
 * The first field (dotted path, as for schema errors) whose text, or whose key, could not be
 * stored, with the message that names it; `root` names a bare string or a key at the top level.
 * For importers, which report problems per line instead of throwing.
 */
export function findTextProblem(value: unknown, { path = "", root = "body" }: { path?: string; root?: string } = {}): TextProblemFound | null {
  if (typeof value === "string") {
    const problem = textProblem(value);
    return problem ? found(path || root, problem === "nul" ? "textNul" : "textSurrogate") : null;
  }
  if (value === null || typeof value !== "object") return null;
  const entries: [string, unknown][] = Array.isArray(value) ? value.map((v, i) => [String(i), v]) : Object.entries(value);
  for (const [key, child] of entries) {
    const problem = textProblem(key);
    // The key itself is the bad text, so the field named is where it sits.
    if (problem) return found(path || root, problem === "nul" ? "keyNul" : "keySurrogate");
    const inside = findTextProblem(child, { path: path ? `${path}.${key}` : key, root });
    if (inside) return inside;
  }
  return null;
}

/** Throws a 400 naming the first field whose text could not be stored (findTextProblem). */
export function assertCleanText(value: unknown, where: { path?: string; root?: string } = {}): void {
  const problem = findTextProblem(value, where);
  if (problem) throw errors.badRequest("input", { key: problem.key, values: problem.values }, problem.field);
}

/** Checks the text of a client's JSON (or query) value, then its schema. */
export function parseInput<T>(value: unknown, schema: ZodType<T>): T {
  assertCleanText(value);
  // With the input in its issues zod can say what it received ("expected number, received string").
  return schema.parse(value, { reportInput: true });
}

/**
 * An integer query parameter with bounds: without a `max` an Int32 (what PostgreSQL and
 * Prisma take), so `?turn=2147483648` is a 400 and not a database error.
 */
export function queryInt({ min = 0, max = INT32_MAX }: { min?: number; max?: number } = {}) {
  return z.coerce.number().int().min(min).max(max);
}

/**
 * A last line for parsed query strings: every number in them must be an Int32, whatever its
 * schema says (a page or a sequence number beyond that has no row and breaks the database's
 * integer parameters).
 */
export function assertInt32Numbers(parsed: unknown): void {
  if (parsed === null || typeof parsed !== "object") return;
  for (const [field, value] of Object.entries(parsed)) {
    if (typeof value === "number" && !(Math.abs(value) <= INT32_MAX)) {
      throw errors.badRequest("input", { key: "numberOutOfRange", values: { field, min: -INT32_MAX, max: INT32_MAX } }, field);
    }
  }
}

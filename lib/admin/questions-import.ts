import { categoryKeyIndex, categoryLabel, categoryNameKey, closestCategories, type NamedCategory } from "../category-names";
import { db } from "../db";
import { errors } from "../errors";
import { fill, messages, type Catalogue } from "../i18n";
import { findTextProblem, TEXT_PROBLEM_KEYS, type TextProblemFound } from "../input";
import { parseTurns, storedTurns } from "../question-turns";
import { questionTextHash } from "../questions";
import { LANGUAGE_CODE, QUESTION_TEXT_MAX_CHARS } from "../schemas/question";
import { parseCsv } from "./csv";
import { isUniqueViolation } from "./db-errors";

// Bulk import of questions from CSV or JSONL. Every import is checked whole first
// (encoding, columns, categories, sizes, duplicates); the real import refuses a file with any
// error and writes everything in one transaction, so a bank never holds half a file.

export const IMPORT_LIMITS = {
  maxBytes: 20 * 1024 * 1024,
  maxRecordChars: 100_000,
  maxTextChars: QUESTION_TEXT_MAX_CHARS,
  maxRows: 100_000,
  /** How many errors / duplicates a report lists (the counts are always complete). */
  maxListed: 500,
} as const;

export type ImportFormat = "csv" | "jsonl";
/**
 * A row's problem. `key` and `values` name its text in the adminImportIssues catalogue section
 * (or, for text that cannot be stored, in `errors`: lib/input.ts), so the admin page says it in
 * its own language; `message` is the English text, for API clients.
 */
export type ImportIssue = { line: number; field: string; message: string; key?: IssueKey | TextProblemFound["key"]; values?: Record<string, string | number> };
type IssueKey = keyof Catalogue["adminImportIssues"];
type Said = Pick<ImportIssue, "key" | "values" | "message">;

/** An issue's text from the catalogue: its key and values, and the English message. */
export function said(key: IssueKey, values: Record<string, string | number> = {}): Said {
  return { key, values, message: fill(messages("en").adminImportIssues[key], values) };
}

/** A row's text that cannot be stored, as an issue. */
export function unstorableIssue(found: TextProblemFound): Said {
  return { key: found.key, values: found.values, message: found.message };
}

/** Every text an import report's issues may name, in one language: for the dry-run tables. */
export function importIssueTexts(catalogue: Catalogue): Readonly<Record<string, string>> {
  return { ...Object.fromEntries(TEXT_PROBLEM_KEYS.map((key) => [key, catalogue.errors[key]])), ...catalogue.adminImportIssues };
}
export type ImportDuplicate = { line: number; text: string; of: "file" | "bank"; firstLine?: number; questionId?: string };
export type ImportReport = {
  format: ImportFormat;
  dryRun: boolean;
  rows: number;
  errorCount: number;
  errors: ImportIssue[];
  duplicateCount: number;
  duplicates: ImportDuplicate[];
  /** Rows that a real import writes (valid, not duplicates). */
  toWrite: number;
  written: number;
  ms: number;
};

/** turns: every user turn of a multi-turn question (turns[0] = text), else null (lib/question-turns.ts). */
type Row = { line: number; text: string; turns: string[] | null; category: string; language: string; externalId: string | null; tags: string[] };
export type Raw = { line: number; values: Record<string, unknown> };

const REQUIRED = ["text", "category", "language"] as const;
// A CSV of multi-turn questions holds every user turn in a `turns` column (a JSON array of
// strings) and may leave `text` empty: lib/question-turns.ts.
const LANGUAGE = LANGUAGE_CODE;

/** Lines (1-based) holding invalid UTF-8; decoding the whole buffer would only say "somewhere". */
export function badUtf8Lines(bytes: Uint8Array): number[] {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const bad: number[] = [];
  let start = 0;
  let line = 1;
  for (let i = 0; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] === 0x0a) {
      try { decoder.decode(bytes.subarray(start, i)); } catch { bad.push(line); }
      start = i + 1;
      line++;
    }
  }
  return bad;
}

/** CSV rows as column → value (header names lower-cased); `required` columns must be in the header. */
export function readCsv(text: string, issues: ImportIssue[], required: readonly string[] = REQUIRED, maxRecordChars: number = IMPORT_LIMITS.maxRecordChars): Raw[] {
  const { records, problems } = parseCsv(text);
  for (const p of problems) issues.push({ line: p.line, field: "line", ...said(p.key) });
  const [header, ...rows] = records;
  if (!header) {
    // A file the CSV reader could not split into records is not an empty one: its problems say why.
    if (!problems.length) issues.push({ line: 1, field: "header", ...said("fileEmpty") });
    return [];
  }
  const columns = header.fields.map((c) => c.trim().toLowerCase());
  const missing = required.filter((c) => !columns.includes(c));
  for (const c of missing) issues.push({ line: header.line, field: c, ...said("missingColumn", { column: c, required: required.join(", ") }) });
  if (missing.length) return [];
  return rows.map((r) => {
    if (r.fields.length !== columns.length) {
      issues.push({ line: r.line, field: "line", ...said("fieldCount", { expected: columns.length, found: r.fields.length }) });
    }
    if (r.chars > maxRecordChars) {
      issues.push({ line: r.line, field: "line", ...said("rowTooLong", { max: maxRecordChars }) });
    }
    return { line: r.line, values: Object.fromEntries(columns.map((c, i) => [c, r.fields[i]])) };
  });
}

/** One JSON object a line; blank lines are skipped, anything else is an issue on its line. */
export function readJsonl(text: string, issues: ImportIssue[], maxRecordChars: number = IMPORT_LIMITS.maxRecordChars): Raw[] {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const out: Raw[] = [];
  body.split("\n").forEach((rawLine, index) => {
    const line = index + 1;
    const content = rawLine.replace(/\r$/, "");
    if (content.trim() === "") return;
    if (content.length > maxRecordChars) {
      issues.push({ line, field: "line", ...said("lineTooLong", { max: maxRecordChars }) });
      return;
    }
    let value: unknown;
    try { value = JSON.parse(content); } catch { issues.push({ line, field: "line", ...said("notJson") }); return; }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      issues.push({ line, field: "line", ...said("notObject") });
      return;
    }
    out.push({ line, values: value as Record<string, unknown> });
  });
  return out;
}

export function str(v: unknown): string | null {
  if (typeof v === "string") return v;
  if (typeof v === "number") return String(v);
  return null;
}

function toRow(raw: Raw, issues: ImportIssue[]): Row | null {
  const { line, values } = raw;
  let ok = true;
  const fail = (field: string, text: Said) => {
    issues.push({ line, field, ...text });
    ok = false;
  };
  const unstorable = findTextProblem(values, { root: "line" }); // a NUL would fail the whole transaction in PostgreSQL
  if (unstorable) fail(unstorable.field, unstorableIssue(unstorable));
  const parsed = parseTurns(values.turns, { maxChars: IMPORT_LIMITS.maxTextChars });
  if (parsed.error) fail("turns", said(parsed.error.key, parsed.error.values));
  const given = str(values.text)?.trim() ?? "";
  const text = parsed.turns ? parsed.turns[0]! : given;
  if (parsed.turns && given && given !== text) fail("text", said("textNotFirstTurn"));
  if (!text) fail("text", said("textRequired"));
  else if (text.length > IMPORT_LIMITS.maxTextChars) fail("text", said("textTooLong", { max: IMPORT_LIMITS.maxTextChars }));
  const category = str(values.category)?.trim() ?? "";
  if (!category) fail("category", said("categoryRequired"));
  const language = str(values.language)?.trim() ?? "";
  if (!language) fail("language", said("languageRequired"));
  else if (!LANGUAGE.test(language)) fail("language", said("languageCode", { language: language.slice(0, 20) }));
  const id = str(values.id)?.trim() || null;
  if (id && id.length > 200) fail("id", said("idTooLong", { max: 200 }));
  let tags: string[] = [];
  if (Array.isArray(values.tags)) tags = values.tags.map((t) => String(t).trim());
  else if (values.tags !== undefined && values.tags !== null) {
    const t = typeof values.tags === "string" ? values.tags : null;
    if (t === null) fail("tags", said("tagsType"));
    else tags = t.split("|").map((s) => s.trim());
  }
  tags = tags.filter(Boolean);
  if (tags.some((t) => t.length > 50) || tags.length > 20) fail("tags", said("tagsLimits", { count: 20, max: 50 }));
  return ok ? { line, text, turns: parsed.turns ? storedTurns(parsed.turns) : null, category, language, externalId: id, tags } : null;
}

/**
 * Resolves a category given as its slug, Chinese or English name or any alias, compared by key
 * (lib/category-names.ts): case, width and separators do not count. An unknown name gets null.
 */
export function categoryResolver(categories: NamedCategory[]) {
  const byKey = categoryKeyIndex(categories);
  return (value: string) => byKey.get(categoryNameKey(value)) ?? null;
}

/** `unknown category "X"; closest: 数值计算与推理 (math-reasoning), …` */
export function unknownCategoryMessage(value: string, categories: NamedCategory[]): string {
  return unknownCategoryIssue(value, categories).message;
}

/** The same, as an issue the admin page says in its language; `closest` only when `suggest`. */
export function unknownCategoryIssue(value: string, categories: NamedCategory[], suggest = true) {
  const name = value.slice(0, 50);
  const closest = suggest ? closestCategories(value, categories) : [];
  return closest.length ? said("unknownCategoryClosest", { name, closest: closest.map(categoryLabel).join(", ") }) : said("unknownCategory", { name });
}

export function detectFormat(name: string | null | undefined): ImportFormat | null {
  if (!name) return null;
  if (/\.csv$/i.test(name)) return "csv";
  if (/\.(jsonl|ndjson)$/i.test(name)) return "jsonl";
  return null;
}

export async function importQuestions({ bytes, format, dryRun, actorId }: { bytes: Uint8Array; format: ImportFormat; dryRun: boolean; actorId: string }): Promise<ImportReport> {
  const started = Date.now();
  const issues: ImportIssue[] = [];
  const duplicates: ImportDuplicate[] = [];
  const report = (written: number, toWrite: number): ImportReport => ({
    format, dryRun, rows: rawCount, errorCount: issues.length, errors: issues.sort((a, b) => a.line - b.line).slice(0, IMPORT_LIMITS.maxListed),
    duplicateCount: duplicates.length, duplicates: duplicates.slice(0, IMPORT_LIMITS.maxListed), toWrite, written, ms: Date.now() - started,
  });
  let rawCount = 0;

  const badLines = badUtf8Lines(bytes);
  for (const line of badLines) issues.push({ line, field: "encoding", ...said("notUtf8") });
  if (badLines.length) return report(0, 0);
  const text = new TextDecoder("utf-8").decode(bytes);

  const raws = format === "csv" ? readCsv(text, issues) : readJsonl(text, issues);
  rawCount = raws.length;
  if (rawCount === 0 && issues.length === 0) issues.push({ line: 1, field: "file", ...said("noQuestions") });
  if (rawCount > IMPORT_LIMITS.maxRows) {
    issues.push({ line: 1, field: "file", ...said("tooManyRows", { max: IMPORT_LIMITS.maxRows }) });
    return report(0, 0);
  }
  const categories = await db.category.findMany({ select: { id: true, slug: true, nameZh: true, nameEn: true, aliases: true, sortOrder: true } });
  const resolve = categoryResolver(categories);
  // One message per distinct unknown name; past the listed errors' worth, no more suggestions are worked out.
  const unknownIssues = new Map<string, ReturnType<typeof unknownCategoryIssue>>();
  const unknownIssue = (value: string) => {
    let issue = unknownIssues.get(value);
    if (issue === undefined) {
      issue = unknownCategoryIssue(value, categories, unknownIssues.size < IMPORT_LIMITS.maxListed);
      unknownIssues.set(value, issue);
    }
    return issue;
  };

  const rows: (Row & { categoryId: string; textHash: string })[] = [];
  for (const raw of raws) {
    const row = toRow(raw, issues);
    if (!row) continue;
    const categoryId = resolve(row.category);
    if (!categoryId) { issues.push({ line: row.line, field: "category", ...unknownIssue(row.category) }); continue; }
    rows.push({ ...row, categoryId, textHash: questionTextHash(row.text) });
  }

  // Duplicates: within the file (first one wins) and against the bank; both are skipped.
  const firstByHash = new Map<string, number>();
  const firstById = new Map<string, number>();
  const fresh: typeof rows = [];
  for (const row of rows) {
    const first = firstByHash.get(row.textHash);
    if (first !== undefined) { duplicates.push({ line: row.line, text: row.text.slice(0, 80), of: "file", firstLine: first }); continue; }
    firstByHash.set(row.textHash, row.line);
    if (row.externalId) {
      const idLine = firstById.get(row.externalId);
      if (idLine !== undefined) { issues.push({ line: row.line, field: "id", ...said("idRepeated", { id: row.externalId, first: idLine }) }); continue; }
      firstById.set(row.externalId, row.line);
    }
    fresh.push(row);
  }
  const inBank = new Map<string, string>();
  const idsInBank = new Map<string, string>();
  for (let i = 0; i < fresh.length; i += 5000) {
    const chunk = fresh.slice(i, i + 5000);
    const ids = chunk.map((r) => r.externalId).filter((x): x is string => !!x);
    const found = await db.question.findMany({
      where: { OR: [{ textHash: { in: chunk.map((r) => r.textHash) } }, ...(ids.length ? [{ externalId: { in: ids } }] : [])] },
      select: { id: true, textHash: true, externalId: true },
    });
    for (const q of found) {
      inBank.set(q.textHash, q.id);
      if (q.externalId) idsInBank.set(q.externalId, q.id);
    }
  }
  const toWrite: typeof rows = [];
  for (const row of fresh) {
    const existing = inBank.get(row.textHash);
    if (existing) { duplicates.push({ line: row.line, text: row.text.slice(0, 80), of: "bank", questionId: existing }); continue; }
    if (row.externalId && idsInBank.has(row.externalId)) {
      issues.push({ line: row.line, field: "id", ...said("idInBank", { id: row.externalId }) });
      continue;
    }
    toWrite.push(row);
  }
  duplicates.sort((a, b) => a.line - b.line);
  if (dryRun || issues.length) return report(0, issues.length ? 0 : toWrite.length);

  let written: number;
  try {
    written = await db.$transaction(
      async (tx) => {
        let count = 0;
        // Chunks keep each statement under PostgreSQL's bind-parameter limit.
        for (let i = 0; i < toWrite.length; i += 2000) {
          const data = toWrite.slice(i, i + 2000).map((r) => ({
            text: r.text, textHash: r.textHash, categoryId: r.categoryId, language: r.language, externalId: r.externalId, tags: r.tags,
            ...(r.turns ? { turns: r.turns } : {}),
          }));
          count += (await tx.question.createMany({ data })).count;
        }
        await tx.auditLog.create({
          data: { actorId, action: "question.import", targetType: "question", after: { format, rows: rawCount, written: count, duplicates: duplicates.length } },
        });
        return count;
      },
      { timeout: 120_000, maxWait: 10_000 },
    );
  } catch (error) {
    // Someone added one of these questions since the check: nothing was written; run it again.
    if (isUniqueViolation(error)) throw errors.conflict("import", { key: "importBankChanged" });
    throw error;
  }
  return report(written, toWrite.length);
}

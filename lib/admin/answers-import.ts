import { Prisma } from "@prisma/client";
import { z } from "zod";
import { answerChains, detectLanguage } from "../arena/battles";
import { KNOWN_ANSWER_SQL, LAST_TURN_SQL } from "../arena/revealed-questions";
import { MAX_TURNS, parseTurns, storedTurns, turnMessages, userTurnsOf } from "../question-turns";
import { db } from "../db";
import { errors } from "../errors";
import { findTextProblem } from "../input";
import { questionTextHash } from "../questions";
import { toCsvRow } from "./csv";
import { isUniqueViolation } from "./db-errors";
import { answerImportFormSchema } from "../schemas/answer-import";
import {
  IMPORT_LIMITS, badUtf8Lines, categoryResolver, readCsv, readJsonl, said, str, unknownCategoryIssue, unstorableIssue,
  type ImportFormat, type ImportIssue, type Raw,
} from "./questions-import";

// Answer sets: an offline model's answers to bank questions, imported from JSONL or CSV (the
// same readers, limits and report shape as the question import). A row names its question by
// question_id (the bank's external id or Leitai id) or by its text; a dry run reports what
// matched, what would be new, what did not match and every line's errors, and a commit writes
// one new answer set version in one transaction. Imported answers are completed generations,
// newer than any earlier version's, so bank battles serve the new texts while older battles
// keep the rows they showed. The export writes any model's latest answers in the same format.
//
// Multi-turn questions (lib/question-turns.ts): a row answers every user turn, in order, with
// `answers` (JSONL: ["answer to turn 1", "answer to turn 2", ...]; CSV: an `answers` column holding
// that JSON array, `answer` left empty), and may give the question's `turns` (the same shapes as
// the question import: needed to add a new multi-turn question, checked against a bank one). The
// import writes a chain of completed generations, turn 0 first, each naming the one before
// (parentId). The CSV export adds the turns and answers columns only when it has a multi-turn row.

export const ANSWER_COLUMNS = ["question_id", "question", "category", "answer"] as const;
const MULTI_TURN_COLUMNS = [...ANSWER_COLUMNS, "turns", "answers"] as const;
export const MAX_ANSWER_CHARS = 100_000;
/**
 * A row holds up to MAX_TURNS turns and their answers, and JSON may spell a CJK character as six
 * (\uXXXX): the row's own limit leaves room for all of it, so a long answer or turn is refused by
 * its own limit, which names it, not by the line's. The upload's size bounds the memory.
 */
const MAX_ANSWER_ROW_CHARS = 6 * MAX_TURNS * (MAX_ANSWER_CHARS + IMPORT_LIMITS.maxTextChars) + 10_000;

export type AnswerRow = {
  line: number;
  questionId: string | null;
  question: string | null;
  category: string | null;
  /** The question's user turns, when the row gives them (a multi-turn question). */
  turns: string[] | null;
  /** One answer per user turn; a single-turn question's is [answer]. */
  answers: string[];
  metadata: Record<string, unknown> | null;
};

export type AnswerDuplicate = { line: number; firstLine: number; question: string };
export type AnswerUnmatched = { line: number; question: string };
export type AnswerImportReport = {
  format: ImportFormat;
  dryRun: boolean;
  rows: number;
  /** Rows whose question is in the bank. */
  matched: number;
  /** Rows whose question is new: added to the bank with createQuestions=1 (else they are unmatched). */
  newQuestions: number;
  unmatchedCount: number;
  unmatched: AnswerUnmatched[];
  duplicateCount: number;
  duplicates: AnswerDuplicate[];
  /** Every line-level problem, unmatched questions and duplicate rows included: a commit needs none. */
  errorCount: number;
  errors: ImportIssue[];
  /** Answers (one per turn) the commit writes; `written` counts the same once committed. */
  toWrite: number;
  written: number;
  answerSet: { id: string; version: number } | null;
  ms: number;
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
/** A row's problem as the catalogue says it (questions-import.ts said()). */
type Issue = Pick<ImportIssue, "key" | "values" | "message">;

/** One raw row → an answer row, or null with its problems added to `issues`. Pure: no database. */
export function toAnswerRow(raw: Raw, issues: ImportIssue[]): AnswerRow | null {
  const { line, values } = raw;
  let ok = true;
  const fail = (field: string, text: Issue) => { issues.push({ line, field, ...text }); ok = false; };
  const unstorable = findTextProblem(values, { root: "line" });
  if (unstorable) fail(unstorable.field, unstorableIssue(unstorable));
  const parsedTurns = parseTurns(values.turns, { maxChars: IMPORT_LIMITS.maxTextChars });
  if (parsedTurns.error) fail("turns", said(parsedTurns.error.key, parsedTurns.error.values));
  const turns = parsedTurns.turns && parsedTurns.turns.length > 1 ? parsedTurns.turns : null;
  const questionId = str(values.question_id)?.trim() || null;
  if (questionId && questionId.length > 200) fail("question_id", said("questionIdTooLong", { max: 200 }));
  const given = str(values.question)?.trim() || null;
  if (turns && given && given !== turns[0]) fail("question", said("questionNotFirstTurn"));
  const question = given ?? turns?.[0] ?? null;
  if (question && question.length > IMPORT_LIMITS.maxTextChars) fail("question", said("questionTooLong", { max: IMPORT_LIMITS.maxTextChars }));
  if (!questionId && !question) fail("question_id", said("questionRequired"));
  const category = str(values.category)?.trim() || null;
  let answers: string[] = [];
  if (values.answers !== undefined && values.answers !== null && values.answers !== "") {
    let list: unknown = values.answers;
    if (typeof list === "string") {
      try { list = JSON.parse(list); } catch { list = null; }
    }
    if (values.answer !== undefined && values.answer !== null && values.answer !== "") fail("answer", said("answerAndAnswers"));
    if (!Array.isArray(list) || list.length === 0 || list.some((a) => typeof a !== "string" || a.trim() === "")) {
      fail("answers", said("answersNotList"));
    } else if (list.some((a: string) => a.length > MAX_ANSWER_CHARS)) {
      fail("answers", said("answersItemTooLong", { max: MAX_ANSWER_CHARS }));
    } else answers = list as string[];
    if (turns && answers.length && answers.length !== turns.length) fail("answers", said("answersCount", { answers: answers.length, turns: turns.length }));
  } else {
    const answer = values.answer;
    if (typeof answer !== "string" || answer.trim() === "") fail("answer", said("answerRequired"));
    else if (answer.length > MAX_ANSWER_CHARS) fail("answer", said("answerTooLong", { max: MAX_ANSWER_CHARS }));
    else answers = [answer];
    if (turns) fail("answers", said("answersNeeded", { turns: turns.length }));
  }
  let metadata: Record<string, unknown> | null = null;
  if (values.metadata !== undefined && values.metadata !== null && values.metadata !== "") {
    let parsed: unknown = values.metadata;
    if (typeof parsed === "string") {
      try { parsed = JSON.parse(parsed); } catch { parsed = null; }
    }
    if (isObject(parsed)) metadata = parsed;
    else fail("metadata", said("metadataObject"));
  }
  return ok ? { line, questionId, question, category, turns, answers, metadata } : null;
}

// The form's own check of the source: a refusal names the field, in the reader's language.
const sourceQuery = z.object({ source: answerImportFormSchema.shape.source });

/** The importer's notes on where the answers came from: a JSON object (engine, quantisation, temperature…). */
export function parseAnswerSource(text: string | undefined): Record<string, unknown> {
  if (text === undefined) return {};
  const { source } = sourceQuery.parse({ source: text });
  if (source === "") return {};
  const value = JSON.parse(source) as Record<string, unknown>;
  const problem = findTextProblem(value, { path: "source" });
  if (problem) throw errors.badRequest("answers", { key: problem.key, values: problem.values }, problem.field);
  return value;
}

async function offlineModel(modelId: string) {
  const model = await db.model.findUnique({ where: { id: modelId }, select: { id: true, slug: true, kind: true } });
  if (!model) throw errors.notFound("model");
  if (model.kind !== "offline") {
    throw errors.conflict("answers", { key: "answersNotOffline", values: { model: model.slug, kind: model.kind } });
  }
  return model;
}

type Resolved = AnswerRow & {
  /** userTurns: every user turn of the question the answers answer, in order. */
  target: { kind: "bank"; questionId: string; text: string; userTurns: string[] } | { kind: "new"; text: string; textHash: string; categoryId: string; userTurns: string[] };
};

export async function importAnswers({ modelId, bytes, format, dryRun, createQuestions, source, actorId }: {
  modelId: string;
  bytes: Uint8Array;
  format: ImportFormat;
  dryRun: boolean;
  createQuestions: boolean;
  source: Record<string, unknown>;
  actorId: string;
}): Promise<AnswerImportReport> {
  await offlineModel(modelId);
  const started = Date.now();
  const issues: ImportIssue[] = [];
  const duplicates: AnswerDuplicate[] = [];
  const unmatched: AnswerUnmatched[] = [];
  let rawCount = 0;
  let matched = 0;
  let fresh = 0;
  const report = (toWrite: number, written = 0, answerSet: AnswerImportReport["answerSet"] = null): AnswerImportReport => ({
    format, dryRun, rows: rawCount, matched, newQuestions: fresh,
    unmatchedCount: unmatched.length, unmatched: unmatched.slice(0, IMPORT_LIMITS.maxListed),
    duplicateCount: duplicates.length, duplicates: duplicates.slice(0, IMPORT_LIMITS.maxListed),
    errorCount: issues.length, errors: issues.sort((a, b) => a.line - b.line).slice(0, IMPORT_LIMITS.maxListed),
    toWrite, written, answerSet, ms: Date.now() - started,
  });

  const badLines = badUtf8Lines(bytes);
  for (const line of badLines) issues.push({ line, field: "encoding", ...said("notUtf8") });
  if (badLines.length) return report(0);
  const text = new TextDecoder("utf-8").decode(bytes);
  const raws = format === "csv" ? readCsv(text, issues, ["answer"], MAX_ANSWER_ROW_CHARS) : readJsonl(text, issues, MAX_ANSWER_ROW_CHARS);
  rawCount = raws.length;
  if (rawCount > IMPORT_LIMITS.maxRows) {
    issues.push({ line: 1, field: "file", ...said("tooManyRows", { max: IMPORT_LIMITS.maxRows }) });
    return report(0);
  }
  if (rawCount === 0 && issues.length === 0) issues.push({ line: 1, field: "file", ...said("noAnswers") });
  const rows = raws.map((raw) => toAnswerRow(raw, issues)).filter((r): r is AnswerRow => r !== null);

  const categories = await db.category.findMany({ select: { id: true, slug: true, nameZh: true, nameEn: true, aliases: true, sortOrder: true } });
  const resolveCategory = categoryResolver(categories);
  type BankQuestion = { id: string; externalId: string | null; text: string; turns: Prisma.JsonValue };
  const byId = new Map<string, BankQuestion>();
  const byExternalId = new Map<string, BankQuestion>();
  const byHash = new Map<string, BankQuestion>();
  for (let i = 0; i < rows.length; i += 5000) {
    const chunk = rows.slice(i, i + 5000);
    const ids = chunk.map((r) => r.questionId).filter((x): x is string => !!x);
    const hashes = chunk.map((r) => r.question).filter((x): x is string => !!x).map(questionTextHash);
    const found = await db.question.findMany({
      where: { OR: [{ id: { in: ids } }, { externalId: { in: ids } }, { textHash: { in: hashes } }] },
      select: { id: true, externalId: true, textHash: true, text: true, turns: true },
    });
    for (const q of found) {
      byId.set(q.id, q);
      if (q.externalId) byExternalId.set(q.externalId, q);
      byHash.set(q.textHash, q);
    }
  }

  const resolved: Resolved[] = [];
  const firstByKey = new Map<string, number>();
  const newIds = new Map<string, number>();
  for (const row of rows) {
    const fail = (field: string, text: Issue) => issues.push({ line: row.line, field, ...text });
    let categoryId: string | null = null;
    if (row.category) {
      categoryId = resolveCategory(row.category);
      if (!categoryId) { fail("category", unknownCategoryIssue(row.category, categories)); continue; }
    }
    const textHash = row.question ? questionTextHash(row.question) : null;
    const byRowId = row.questionId ? byExternalId.get(row.questionId) ?? byId.get(row.questionId) : undefined;
    const byText = textHash ? byHash.get(textHash) : undefined;
    // An id and a text naming two bank questions: a shifted id would put the answer on the wrong one.
    if (byRowId && byText && byRowId.id !== byText.id) {
      fail("question", said("idTextMismatch", { id: row.questionId!.slice(0, 50), textId: byText.externalId ?? byText.id }));
      continue;
    }
    const bank = byRowId ?? byText;
    const named = row.question ?? row.questionId!;
    let target: Resolved["target"];
    if (bank) {
      const userTurns = userTurnsOf(bank);
      if (row.turns && (row.turns.length !== userTurns.length || row.turns.some((t, i) => t !== userTurns[i]))) {
        fail("turns", said("turnsDiffer"));
        continue;
      }
      if (row.answers.length !== userTurns.length) {
        fail(userTurns.length > 1 ? "answers" : "answer", userTurns.length > 1
          ? said("bankTurnsAnswers", { turns: userTurns.length, given: row.answers.length })
          : said("bankSingleAnswer", { given: row.answers.length }));
        continue;
      }
      target = { kind: "bank", questionId: bank.id, text: bank.text, userTurns };
    } else if (!createQuestions) {
      unmatched.push({ line: row.line, question: named.slice(0, 80) });
      if (row.question) fail("question", said("unmatchedQuestion"));
      else fail("question_id", said("unmatchedId", { id: row.questionId!.slice(0, 50) }));
      continue;
    } else if (!row.question) {
      unmatched.push({ line: row.line, question: named.slice(0, 80) });
      fail("question", said("idNeedsText", { id: row.questionId!.slice(0, 50) }));
      continue;
    } else if (!categoryId) {
      unmatched.push({ line: row.line, question: named.slice(0, 80) });
      fail("category", said("newQuestionCategory"));
      continue;
    } else if (row.answers.length > 1 && !row.turns) {
      unmatched.push({ line: row.line, question: named.slice(0, 80) });
      fail("turns", said("newQuestionTurns"));
      continue;
    } else {
      target = { kind: "new", text: row.question, textHash: textHash!, categoryId, userTurns: row.turns ?? [row.question] };
      if (row.questionId) {
        const idLine = newIds.get(row.questionId);
        if (idLine !== undefined) { fail("question_id", said("newIdRepeated", { id: row.questionId.slice(0, 50), line: idLine })); continue; }
        newIds.set(row.questionId, row.line);
      }
    }
    const key = target.kind === "bank" ? `q:${target.questionId}` : `h:${target.textHash}`;
    const first = firstByKey.get(key);
    if (first !== undefined) {
      duplicates.push({ line: row.line, firstLine: first, question: target.text.slice(0, 80) });
      fail("question", said("sameQuestion", { line: first }));
      continue;
    }
    firstByKey.set(key, row.line);
    if (target.kind === "bank") matched++;
    else fresh++;
    resolved.push({ ...row, target });
  }
  duplicates.sort((a, b) => a.line - b.line);
  unmatched.sort((a, b) => a.line - b.line);
  const answers = resolved.reduce((n, r) => n + r.answers.length, 0);
  if (dryRun || issues.length) return report(issues.length ? 0 : answers);

  try {
    const { answerSet, written } = await db.$transaction(
      async (tx) => {
        const newRows = resolved.filter((r) => r.target.kind === "new");
        const newIdsByHash = new Map<string, string>();
        // New questions are a millisecond apart in file order: the bank, and so the export, lists
        // them as the file did, which makes an export imported into a fresh arena export the same.
        const firstCreatedAt = Date.now() - newRows.length;
        for (let i = 0; i < newRows.length; i += 2000) {
          const data = newRows.slice(i, i + 2000).map((r, j) => {
            const t = r.target as Extract<Resolved["target"], { kind: "new" }>;
            const turns = storedTurns(t.userTurns);
            return {
              text: t.text, textHash: t.textHash, categoryId: t.categoryId, language: detectLanguage(t.text), externalId: r.questionId,
              createdAt: new Date(firstCreatedAt + i + j), ...(turns ? { turns } : {}),
            };
          });
          const created = await tx.question.createManyAndReturn({ data, select: { id: true, textHash: true } });
          for (const q of created) newIdsByHash.set(q.textHash, q.id);
        }
        const last = await tx.answerSet.findFirst({ where: { modelId }, orderBy: { version: "desc" }, select: { version: true } });
        const now = new Date();
        const set = await tx.answerSet.create({
          data: { modelId, version: (last?.version ?? 0) + 1, source: source as Prisma.InputJsonValue, rowCount: resolved.length, createdBy: actorId, createdAt: now },
        });
        let count = 0;
        const questionOf = (r: Resolved) => (r.target.kind === "bank" ? r.target.questionId : newIdsByHash.get(r.target.textHash)!);
        const rowOf = (r: Resolved, turn: number, parentId: string | null) => ({
          modelId,
          questionId: questionOf(r),
          purpose: "pregen" as const,
          messages: turnMessages(r.target.userTurns, r.answers, turn) as unknown as Prisma.InputJsonValue,
          params: (r.metadata ?? {}) as Prisma.InputJsonValue,
          status: "completed" as const,
          text: r.answers[turn]!,
          answerSetId: set.id,
          turn,
          parentId,
          createdAt: now,
          startedAt: now,
          finishedAt: now,
        });
        const single = resolved.filter((r) => r.answers.length === 1);
        for (let i = 0; i < single.length; i += 2000) {
          count += (await tx.generation.createMany({ data: single.slice(i, i + 2000).map((r) => rowOf(r, 0, null)) })).count;
        }
        // Multi-turn answers: a chain, turn by turn, each turn naming the one before it.
        const multi = resolved.filter((r) => r.answers.length > 1);
        let parents = new Map<string, string>();
        for (let turn = 0; multi.some((r) => r.answers.length > turn); turn++) {
          const at = multi.filter((r) => r.answers.length > turn);
          const next = new Map<string, string>();
          for (let i = 0; i < at.length; i += 2000) {
            const created = await tx.generation.createManyAndReturn({
              data: at.slice(i, i + 2000).map((r) => rowOf(r, turn, turn === 0 ? null : parents.get(questionOf(r))!)),
              select: { id: true, questionId: true },
            });
            for (const g of created) next.set(g.questionId!, g.id);
            count += created.length;
          }
          parents = next;
        }
        await tx.auditLog.create({
          data: {
            actorId, action: "model.answers.import", targetType: "model", targetId: modelId,
            after: { answerSetId: set.id, version: set.version, format, rows: rawCount, written: count, newQuestions: fresh, source: source as Prisma.InputJsonValue },
          },
        });
        return { answerSet: { id: set.id, version: set.version }, written: count };
      },
      { timeout: 120_000, maxWait: 10_000 },
    );
    return report(answers, written, answerSet);
  } catch (error) {
    if (isUniqueViolation(error)) throw errors.conflict("answers", { key: "answersChanged" });
    throw error;
  }
}

export type AnswerSetView = { id: string; version: number; source: Record<string, unknown>; rowCount: number; createdBy: string | null; createdAt: Date };

/** A model's answer set versions, newest first, with who imported each (their email). */
export async function listAnswerSets({ modelId }: { modelId: string }): Promise<AnswerSetView[]> {
  const sets = await db.answerSet.findMany({ where: { modelId }, orderBy: { version: "desc" } });
  const users = await db.user.findMany({ where: { id: { in: sets.map((s) => s.createdBy).filter((x): x is string => !!x) } }, select: { id: true, email: true } });
  const emailOf = new Map(users.map((u) => [u.id, u.email]));
  return sets.map((s) => ({
    id: s.id, version: s.version, source: (s.source ?? {}) as Record<string, unknown>, rowCount: s.rowCount,
    createdBy: s.createdBy ? emailOf.get(s.createdBy) ?? null : null, createdAt: s.createdAt,
  }));
}

/**
 * Bank questions a model can battle on: active ones it has a completed answer to that is not a
 * published text, as bank battles draw them. Battles serve each question's newest answer from any
 * version, so a question a later file leaves out keeps its earlier answer and still counts.
 */
export async function answersInPlay({ modelId }: { modelId: string }): Promise<number> {
  const [row] = await db.$queryRaw<{ n: bigint }[]>`
    SELECT COUNT(DISTINCT g."questionId") AS n FROM generations g JOIN questions q ON q.id = g."questionId"
    WHERE g."modelId" = ${modelId} AND g.status = 'completed' AND q.active
      AND ${Prisma.raw(LAST_TURN_SQL)} AND NOT ${Prisma.raw(KNOWN_ANSWER_SQL)}`;
  return Number(row?.n ?? 0);
}

export type AnswerSetSummary = Pick<AnswerSetView, "version" | "source" | "rowCount" | "createdAt"> & { inPlay: number };

/**
 * An offline model's answers for its pages: the newest answer set (where its answers came from,
 * when, and how many that file brought) and how many questions it can battle on in all.
 */
export async function latestAnswerSet({ modelId }: { modelId: string }): Promise<AnswerSetSummary | null> {
  const [set, inPlay] = await Promise.all([
    db.answerSet.findFirst({ where: { modelId }, orderBy: { version: "desc" }, select: { version: true, source: true, rowCount: true, createdAt: true } }),
    answersInPlay({ modelId }),
  ]);
  return set ? { ...set, source: (set.source ?? {}) as Record<string, unknown>, inPlay } : null;
}

/**
 * Any model's latest completed answer to each bank question, in the import's format (question_id
 * is the external id, else the Leitai id; category is the slug), ordered by question: importing
 * it into an offline model and exporting that gives the same bytes.
 */
export async function exportAnswers({ modelId, format }: { modelId: string; format: ImportFormat }): Promise<string> {
  const model = await db.model.findUnique({ where: { id: modelId }, select: { id: true } });
  if (!model) throw errors.notFound("model");
  const rows = await db.$queryRaw<{ id: string; externalId: string | null; question: string; turns: Prisma.JsonValue; slug: string; answer: string; generationId: string }[]>`
    SELECT id, "externalId", question, turns, slug, answer, "generationId" FROM (
      SELECT DISTINCT ON (q.id) q.id, q."externalId", q.text AS question, q.turns, c.slug, g.text AS answer, g.id AS "generationId", q."createdAt"
      FROM generations g JOIN questions q ON q.id = g."questionId" JOIN categories c ON c.id = q."categoryId"
      WHERE g."modelId" = ${modelId} AND g.status = 'completed' AND ${Prisma.raw(LAST_TURN_SQL)}
      ORDER BY q.id, g."finishedAt" DESC NULLS LAST, g."createdAt" DESC
    ) latest ORDER BY "createdAt", id`;
  const multi = rows.filter((r) => userTurnsOf({ text: r.question, turns: r.turns }).length > 1);
  const chains = multi.length ? await answerChains(multi.map((r) => r.generationId)) : new Map<string, { text: string }[]>();
  const records = rows.map((r) => {
    const base = { question_id: r.externalId ?? r.id, question: r.question, category: r.slug };
    const userTurns = userTurnsOf({ text: r.question, turns: r.turns });
    if (userTurns.length === 1) return { ...base, answer: r.answer };
    return { ...base, turns: userTurns, answers: (chains.get(r.generationId) ?? []).map((g) => g.text) };
  });
  if (format === "jsonl") return records.map((r) => JSON.stringify(r) + "\n").join("");
  const cell = (r: (typeof records)[number], c: (typeof MULTI_TURN_COLUMNS)[number]) => {
    if (c === "turns" || c === "answers") return c in r ? JSON.stringify((r as Record<string, unknown>)[c]) : "";
    return ((r as Record<string, unknown>)[c] as string | undefined) ?? "";
  };
  const columns = multi.length ? MULTI_TURN_COLUMNS : ANSWER_COLUMNS;
  return toCsvRow([...columns]) + records.map((r) => toCsvRow(columns.map((c) => cell(r, c)))).join("");
}

/** The export's download name: `leitai-answers-{model slug}-{date}.{format}`. */
export async function answerExportFilename({ modelId, format }: { modelId: string; format: ImportFormat }): Promise<string> {
  const model = await db.model.findUnique({ where: { id: modelId }, select: { slug: true } });
  return `leitai-answers-${model?.slug ?? "model"}-${new Date().toISOString().slice(0, 10)}.${format}`;
}

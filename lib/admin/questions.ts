import type { Prisma } from "@prisma/client";
import { z } from "zod";
import { recordAudit } from "../audit";
import { db } from "../db";
import { AppError, errors } from "../errors";
import { questionTextHash } from "../questions";
import type { QuestionInput } from "../schemas/question";

export { questionInputSchema, questionPatchSchema, type QuestionInput } from "../schemas/question";

export const QUESTIONS_PER_PAGE = 50;

export const questionFilterSchema = z.object({
  page: z.coerce.number().int().min(1).default(1),
  q: z.string().trim().max(200).optional(),
  category: z.string().optional(),
  language: z.string().max(20).optional(),
  active: z.enum(["true", "false"]).optional(),
  /** Only questions with a completed answer from this model. */
  answeredBy: z.string().optional(),
});
export type QuestionFilter = z.infer<typeof questionFilterSchema>;

function whereOf(f: Omit<QuestionFilter, "page">): Prisma.QuestionWhereInput {
  return {
    ...(f.q ? { text: { contains: f.q, mode: "insensitive" as const } } : {}),
    ...(f.category ? { categoryId: f.category } : {}),
    ...(f.language ? { language: f.language } : {}),
    ...(f.active ? { active: f.active === "true" } : {}),
    ...(f.answeredBy ? { generations: { some: { modelId: f.answeredBy, status: "completed" } } } : {}),
  };
}

export async function listQuestions(filter: QuestionFilter) {
  const where = whereOf(filter);
  const [total, rows] = await Promise.all([
    db.question.count({ where }),
    db.question.findMany({
      where,
      orderBy: { createdAt: "desc" },
      skip: (filter.page - 1) * QUESTIONS_PER_PAGE,
      take: QUESTIONS_PER_PAGE,
      include: { category: { select: { slug: true, nameZh: true, nameEn: true } }, _count: { select: { battles: true, generations: true } } },
    }),
  ]);
  return { total, page: filter.page, pages: Math.max(1, Math.ceil(total / QUESTIONS_PER_PAGE)), rows };
}

export async function getQuestion({ id }: { id: string }) {
  const row = await db.question.findUnique({ where: { id }, include: { _count: { select: { battles: true } } } });
  if (!row) throw errors.notFound("question");
  return row;
}

async function assertUnique({ textHash, externalId, exceptId }: { textHash: string; externalId: string | null; exceptId?: string }) {
  const same = await db.question.findUnique({ where: { textHash }, select: { id: true } });
  if (same && same.id !== exceptId) throw new AppError("conflict:question_duplicate", { key: "questionDuplicate" }, { field: "text" });
  if (externalId) {
    const other = await db.question.findUnique({ where: { externalId }, select: { id: true } });
    if (other && other.id !== exceptId) throw new AppError("conflict:question_external_id", { key: "questionExternalIdTaken" }, { field: "externalId" });
  }
}

async function assertCategory(categoryId: string) {
  if (!(await db.category.findUnique({ where: { id: categoryId }, select: { id: true } }))) {
    throw new AppError("bad_request:question_category", { key: "questionNoCategory" }, { field: "categoryId" });
  }
}

export async function createQuestion({ input, actorId }: { input: QuestionInput; actorId: string }) {
  const textHash = questionTextHash(input.text);
  await assertCategory(input.categoryId);
  await assertUnique({ textHash, externalId: input.externalId });
  return db.$transaction(async (tx) => {
    const row = await tx.question.create({ data: { ...input, textHash } });
    await recordAudit({ actorId, action: "question.create", targetType: "question", targetId: row.id, after: row }, tx);
    return row;
  });
}

export async function updateQuestion({ id, input, actorId }: { id: string; input: Partial<QuestionInput>; actorId: string }) {
  const before = await db.question.findUnique({ where: { id } });
  if (!before) throw errors.notFound("question");
  const data: Prisma.QuestionUncheckedUpdateInput = { ...input };
  if (input.text !== undefined) data.textHash = questionTextHash(input.text);
  // Answers were written for the text as it is: a new wording would pair them with a question
  // they never answered. What the text's hash ignores (case, width, doubled spaces, the end's
  // punctuation) may still be fixed.
  if (data.textHash !== undefined && data.textHash !== before.textHash) {
    const answers = await db.generation.count({ where: { questionId: id, status: { in: ["queued", "running", "completed"] } } });
    if (answers > 0) throw new AppError("conflict:question_answered", { key: "questionTextAnswered", values: { n: answers } }, { field: "text" });
  }
  // A multi-turn question's first turn is its text (lib/question-turns.ts): an edit changes both.
  const turns = before.turns as string[] | null;
  if (input.text !== undefined && Array.isArray(turns) && turns.length > 1) data.turns = [input.text, ...turns.slice(1)];
  // Out of rotation its answers were shown under their models' names: back in, those answers are
  // known and never served in a rated battle again (only answers finished from now on are).
  if (input.active === true && !before.active) data.answersPublishedUntil = new Date();
  if (input.categoryId) await assertCategory(input.categoryId);
  await assertUnique({ textHash: (data.textHash as string | undefined) ?? before.textHash, externalId: input.externalId ?? null, exceptId: id });
  return db.$transaction(async (tx) => {
    const row = await tx.question.update({ where: { id }, data });
    const action = Object.keys(input).length === 1 && input.active !== undefined ? (input.active ? "question.activate" : "question.deactivate") : "question.update";
    await recordAudit({ actorId, action, targetType: "question", targetId: id, before, after: row }, tx);
    return row;
  });
}

/** Only a question no battle has used can go; its unused cached answers go with it. */
export async function deleteQuestion({ id, actorId }: { id: string; actorId: string }) {
  const before = await db.question.findUnique({ where: { id }, include: { _count: { select: { battles: true } } } });
  if (!before) throw errors.notFound("question");
  const usedAnswers = await db.battleGeneration.count({ where: { generation: { questionId: id } } });
  if (before._count.battles > 0 || usedAnswers > 0) {
    throw errors.conflict("question_in_use", { key: "questionInUse" });
  }
  const { _count, ...snapshot } = before;
  await db.$transaction(async (tx) => {
    await tx.generation.deleteMany({ where: { questionId: id } });
    await tx.question.delete({ where: { id } });
    await recordAudit({ actorId, action: "question.delete", targetType: "question", targetId: id, before: snapshot }, tx);
  });
}

export async function listLanguages(): Promise<string[]> {
  const rows = await db.question.groupBy({ by: ["language"], orderBy: { language: "asc" } });
  return rows.map((r) => r.language);
}

/** For pages: null instead of a 404 error. */
export async function findQuestion({ id }: { id: string }) {
  return db.question.findUnique({ where: { id }, include: { _count: { select: { battles: true } } } });
}

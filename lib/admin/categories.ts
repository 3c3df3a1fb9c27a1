import { z } from "zod";
import { recordAudit } from "../audit";
import { db } from "../db";
import { AppError, errors } from "../errors";

export const categoryInputSchema = z.object({
  slug: z.string().trim().regex(/^[a-z0-9](?:[a-z0-9-]{0,62})$/, "slug: lowercase letters, digits and '-'"),
  nameZh: z.string().trim().min(1, "Chinese name is required").max(100),
  nameEn: z.string().trim().min(1, "English name is required").max(100),
  sortOrder: z.number().int().min(0).max(10_000).default(0),
});
export type CategoryInput = z.infer<typeof categoryInputSchema>;

export async function listCategories() {
  return db.category.findMany({ orderBy: [{ sortOrder: "asc" }, { slug: "asc" }], include: { _count: { select: { questions: true } } } });
}

async function assertSlugFree(slug: string, exceptId?: string) {
  const other = await db.category.findUnique({ where: { slug }, select: { id: true } });
  if (other && other.id !== exceptId) throw new AppError("conflict:category_slug", `The slug "${slug}" is taken.`, { field: "slug" });
}

export async function createCategory({ input, actorId }: { input: CategoryInput; actorId: string }) {
  await assertSlugFree(input.slug);
  return db.$transaction(async (tx) => {
    const row = await tx.category.create({ data: input });
    await recordAudit({ actorId, action: "category.create", targetType: "category", targetId: row.id, after: row }, tx);
    return row;
  });
}

export async function updateCategory({ id, input, actorId }: { id: string; input: CategoryInput; actorId: string }) {
  const before = await db.category.findUnique({ where: { id } });
  if (!before) throw errors.notFound("category");
  await assertSlugFree(input.slug, id);
  return db.$transaction(async (tx) => {
    const row = await tx.category.update({ where: { id }, data: input });
    await recordAudit({ actorId, action: "category.update", targetType: "category", targetId: id, before, after: row }, tx);
    return row;
  });
}

export async function deleteCategory({ id, actorId }: { id: string; actorId: string }) {
  const before = await db.category.findUnique({ where: { id }, include: { _count: { select: { questions: true, battles: true } } } });
  if (!before) throw errors.notFound("category");
  if (before._count.questions > 0 || before._count.battles > 0) {
    throw errors.conflict("category_in_use", "Questions or battles use this category; move them first.");
  }
  const { _count, ...snapshot } = before;
  await db.$transaction(async (tx) => {
    await tx.category.delete({ where: { id } });
    await recordAudit({ actorId, action: "category.delete", targetType: "category", targetId: id, before: snapshot }, tx);
  });
}

export async function getCategory({ id }: { id: string }) {
  const row = await db.category.findUnique({ where: { id } });
  if (!row) throw errors.notFound("category");
  return row;
}

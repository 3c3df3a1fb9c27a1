import type { Prisma } from "@prisma/client";
import { recordAudit } from "../audit";
import { categoryKeyIndex, categoryLabel, categoryNameKey } from "../category-names";
import type { CategoryInput } from "../schemas/category";
import { db } from "../db";
import { AppError, errors } from "../errors";

export { ALIAS_LIMITS, categoryAliasesSchema, categoryInputSchema, type CategoryInput } from "../schemas/category";

export async function listCategories() {
  return db.category.findMany({ orderBy: [{ sortOrder: "asc" }, { slug: "asc" }], include: { _count: { select: { questions: true } } } });
}

async function assertSlugFree(slug: string, exceptId?: string) {
  const other = await db.category.findUnique({ where: { slug }, select: { id: true } });
  if (other && other.id !== exceptId) throw new AppError("conflict:category_slug", { key: "categorySlugTaken", values: { slug } }, { field: "slug" });
}

/** Serialises alias checks with the writes they guard: two admins cannot give two categories one alias. */
async function lockCategoryNames(tx: Prisma.TransactionClient) {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('leitai:category-names'))`;
}

/** An alias that reads (normalised) like another category's slug, name or alias is a 409 naming `aliases`. */
async function assertAliasesFree(tx: Prisma.TransactionClient, aliases: string[] | undefined, exceptId?: string) {
  if (!aliases?.length) return;
  const others = await tx.category.findMany({
    where: exceptId ? { id: { not: exceptId } } : {},
    select: { id: true, slug: true, nameZh: true, nameEn: true, aliases: true },
  });
  const byKey = categoryKeyIndex(others);
  for (const alias of aliases) {
    const owner = others.find((c) => c.id === byKey.get(categoryNameKey(alias)));
    if (owner) {
      throw new AppError("conflict:category_alias", { key: "categoryAliasTaken", values: { alias, owner: categoryLabel(owner) } }, { field: "aliases" });
    }
  }
}

export async function createCategory({ input, actorId }: { input: CategoryInput; actorId: string }) {
  await assertSlugFree(input.slug);
  return db.$transaction(async (tx) => {
    await lockCategoryNames(tx);
    await assertAliasesFree(tx, input.aliases);
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
    await lockCategoryNames(tx);
    await assertAliasesFree(tx, input.aliases, id);
    const row = await tx.category.update({ where: { id }, data: input });
    await recordAudit({ actorId, action: "category.update", targetType: "category", targetId: id, before, after: row }, tx);
    return row;
  });
}

export async function deleteCategory({ id, actorId }: { id: string; actorId: string }) {
  const before = await db.category.findUnique({ where: { id }, include: { _count: { select: { questions: true, battles: true } } } });
  if (!before) throw errors.notFound("category");
  if (before._count.questions > 0 || before._count.battles > 0) {
    throw errors.conflict("category_in_use", { key: "categoryInUse" });
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

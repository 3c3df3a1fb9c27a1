import type { Prisma } from "@prisma/client";
import { z } from "zod";
import { recordAudit } from "../audit";
import { categoryKeyIndex, categoryLabel, categoryNameKey } from "../category-names";
import { db } from "../db";
import { AppError, errors } from "../errors";

export const ALIAS_LIMITS = { maxChars: 64, maxCount: 20 } as const;

/**
 * Other names of a category. No commas (the admin form separates aliases with them; a comma
 * matches like a space anyway), and no two that read the same once normalised.
 */
export const categoryAliasesSchema = z
  .array(
    z.string().trim()
      .min(1, "an alias cannot be empty")
      .max(ALIAS_LIMITS.maxChars, `an alias is at most ${ALIAS_LIMITS.maxChars} characters`)
      .refine((a) => !/[,，]/u.test(a), "an alias cannot hold a comma (commas separate aliases)")
      .refine((a) => categoryNameKey(a) !== "", "an alias needs more than separators"),
  )
  .max(ALIAS_LIMITS.maxCount, `at most ${ALIAS_LIMITS.maxCount} aliases`)
  .superRefine((aliases, ctx) => {
    const seen = new Map<string, string>();
    for (const alias of aliases) {
      const key = categoryNameKey(alias);
      const first = seen.get(key);
      if (first !== undefined) ctx.addIssue({ code: "custom", message: `"${alias}" repeats "${first}"` });
      else seen.set(key, alias);
    }
  });

export const categoryInputSchema = z.object({
  slug: z.string().trim().regex(/^[a-z0-9](?:[a-z0-9-]{0,62})$/, "slug: lowercase letters, digits and '-'"),
  nameZh: z.string().trim().min(1, "Chinese name is required").max(100),
  nameEn: z.string().trim().min(1, "English name is required").max(100),
  sortOrder: z.number().int().min(0).max(10_000).default(0),
  /** Left out on an update: the aliases stay as they are. */
  aliases: categoryAliasesSchema.optional(),
});
export type CategoryInput = z.infer<typeof categoryInputSchema>;

export async function listCategories() {
  return db.category.findMany({ orderBy: [{ sortOrder: "asc" }, { slug: "asc" }], include: { _count: { select: { questions: true } } } });
}

async function assertSlugFree(slug: string, exceptId?: string) {
  const other = await db.category.findUnique({ where: { slug }, select: { id: true } });
  if (other && other.id !== exceptId) throw new AppError("conflict:category_slug", `The slug "${slug}" is taken.`, { field: "slug" });
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
      throw new AppError("conflict:category_alias", `The alias "${alias}" already names ${categoryLabel(owner)}.`, { field: "aliases" });
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

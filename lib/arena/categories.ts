import { db } from "../db";

export async function listCategories(): Promise<{ id: string; slug: string; nameZh: string; nameEn: string }[]> {
  return db.category.findMany({ orderBy: { sortOrder: "asc" }, select: { id: true, slug: true, nameZh: true, nameEn: true } });
}

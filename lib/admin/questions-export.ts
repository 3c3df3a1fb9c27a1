import { db } from "../db";
import { toCsvRow } from "./csv";
import type { ImportFormat } from "./questions-import";

// Exports the whole bank in the import's own formats, so an export imports back unchanged.
// The id column carries the imported id when there is one, else the bank's own id.

export async function exportQuestions({ format }: { format: ImportFormat }): Promise<string> {
  const parts: string[] = format === "csv" ? [toCsvRow(["id", "text", "category", "language", "tags", "active"])] : [];
  let cursor: string | undefined;
  for (;;) {
    const rows = await db.question.findMany({
      take: 5000,
      ...(cursor ? { skip: 1, cursor: { id: cursor } } : {}),
      orderBy: { id: "asc" },
      include: { category: { select: { slug: true } } },
    });
    if (!rows.length) break;
    for (const q of rows) {
      const id = q.externalId ?? q.id;
      if (format === "csv") parts.push(toCsvRow([id, q.text, q.category.slug, q.language, q.tags.join("|"), String(q.active)]));
      else parts.push(JSON.stringify({ id, text: q.text, category: q.category.slug, language: q.language, tags: q.tags, active: q.active }) + "\n");
    }
    cursor = rows[rows.length - 1]!.id;
  }
  return parts.join("");
}

import { db } from "../db";
import { toCsvRow } from "./csv";
import { storedTurns, userTurnsOf } from "../question-turns";
import type { ImportFormat } from "./questions-import";

// Exports the whole bank in the import's own formats, so an export imports back unchanged.
// The id column carries the imported id when there is one, else the bank's own id. A multi-turn
// question's user turns go in `turns` (JSONL: an array, only on multi-turn questions; CSV: the last
// column, a JSON array, empty for a single-turn question): lib/question-turns.ts.

export async function exportQuestions({ format }: { format: ImportFormat }): Promise<string> {
  const parts: string[] = format === "csv" ? [toCsvRow(["id", "text", "category", "language", "tags", "active", "turns"])] : [];
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
      const turns = storedTurns(userTurnsOf(q));
      if (format === "csv") parts.push(toCsvRow([id, q.text, q.category.slug, q.language, q.tags.join("|"), String(q.active), turns ? JSON.stringify(turns) : ""]));
      else parts.push(JSON.stringify({ id, text: q.text, ...(turns ? { turns } : {}), category: q.category.slug, language: q.language, tags: q.tags, active: q.active }) + "\n");
    }
    cursor = rows[rows.length - 1]!.id;
  }
  return parts.join("");
}

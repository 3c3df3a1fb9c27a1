import { QuestionImport } from "@/components/admin/question-import";
import { IMPORT_LIMITS } from "@/lib/admin/questions-import";
import { requireAdminPage } from "@/lib/auth/session";

export const dynamic = "force-dynamic";

export default async function ImportQuestionsPage() {
  await requireAdminPage("/admin/questions/import");
  return (
    <div>
      <h1>批量导入 Bulk import</h1>
      <p className="muted">
        UTF-8 的 CSV（表头 text, category, language，可选 id, tags）或 JSONL（每行一个对象）。多轮问题：JSONL 写 "turns": ["第一轮", "第二轮", …]（text 可省略，给出时须等于第一轮）；CSV 用 turns 列放同样的 JSON 数组（text 可留空）。先试运行：逐行列出错误与重复，什么都不写入。
        导入是一个事务：有任何错误则一行也不写。
      </p>
      <p className="muted small">
        UTF-8 CSV (header: text, category, language; optional id, tags separated by |) or JSONL (one object per line). category is a slug or
        its Chinese or English name. Multi-turn questions: in JSONL, "turns": ["first user turn", "second", …] (text may be left out; when given it
        must equal the first turn); in CSV, a turns column holding the same JSON array of strings (text may be empty). Duplicates are
        matched on the first turn. A dry run lists errors and duplicates per line and writes nothing; the import is one transaction — any
        error and no row is written. Duplicates (same normalised text, in the file or in the bank) are skipped. Up to {IMPORT_LIMITS.maxBytes / 1024 / 1024} MB
        and {IMPORT_LIMITS.maxRows.toLocaleString()} rows per file.
      </p>
      <QuestionImport />
    </div>
  );
}

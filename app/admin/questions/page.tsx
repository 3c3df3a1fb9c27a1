import Link from "next/link";
import { ActionButton } from "@/components/admin/action-button";
import { QuestionForm } from "@/components/admin/question-form";
import { listCategories } from "@/lib/admin/categories";
import { listLanguages, listQuestions, questionFilterSchema } from "@/lib/admin/questions";
import { requireAdminPage } from "@/lib/auth/session";
import { listAdminModels } from "@/lib/models/admin";

export const dynamic = "force-dynamic";

type Search = Record<string, string | string[] | undefined>;

export default async function AdminQuestionsPage({ searchParams }: { searchParams: Promise<Search> }) {
  await requireAdminPage("/admin/questions");
  const raw = Object.fromEntries(Object.entries(await searchParams).filter(([, v]) => typeof v === "string" && v !== "")) as Record<string, string>;
  const parsed = questionFilterSchema.safeParse(raw);
  const filter = parsed.success ? parsed.data : questionFilterSchema.parse({});
  const [list, categories, languages, models] = await Promise.all([listQuestions(filter), listCategories(), listLanguages(), listAdminModels()]);
  const pageHref = (page: number) => `/admin/questions?${new URLSearchParams({ ...raw, page: String(page) })}`;
  return (
    <div>
      <div className="admin-row" style={{ justifyContent: "space-between" }}>
        <h1>题库 Question bank</h1>
        <div className="admin-row">
          <Link href="/admin/questions/import" data-testid="question-import-link">导入 Import</Link>
          <a href="/api/admin/questions/export?format=csv" data-testid="question-export-csv">导出 CSV</a>
          <a href="/api/admin/questions/export?format=jsonl" data-testid="question-export-jsonl">导出 JSONL</a>
        </div>
      </div>
      <form method="get" className="admin-form" data-testid="question-filters">
        <label>搜索 Search<input name="q" defaultValue={filter.q} data-testid="question-search" /></label>
        <label>
          类别 Category
          <select name="category" defaultValue={filter.category ?? ""} data-testid="question-filter-category">
            <option value="">全部 All</option>
            {categories.map((c) => <option key={c.id} value={c.id}>{c.nameZh} {c.nameEn}</option>)}
          </select>
        </label>
        <label>
          语言 Language
          <select name="language" defaultValue={filter.language ?? ""} data-testid="question-filter-language">
            <option value="">全部 All</option>
            {languages.map((l) => <option key={l}>{l}</option>)}
          </select>
        </label>
        <label>
          状态 Active
          <select name="active" defaultValue={filter.active ?? ""} data-testid="question-filter-active">
            <option value="">全部 All</option><option value="true">启用 Active</option><option value="false">停用 Inactive</option>
          </select>
        </label>
        <label>
          已有回答 Has answers from
          <select name="answeredBy" defaultValue={filter.answeredBy ?? ""} data-testid="question-filter-answered">
            <option value="">任意 Any</option>
            {models.map((m) => <option key={m.id} value={m.id}>{m.displayName}</option>)}
          </select>
        </label>
        <button type="submit" data-testid="question-filter-apply">筛选 Filter</button>
      </form>
      <p className="muted small" data-testid="question-total">{list.total} 题 questions · 第 {list.page}/{list.pages} 页 page</p>
      <div className="admin-scroll">
        <table className="admin-table" data-testid="question-list">
          <thead><tr><th>问题 Question</th><th>类别 Category</th><th>语言</th><th>对战 Battles</th><th>状态</th><th>操作 Actions</th></tr></thead>
          <tbody>
            {list.rows.map((q) => (
              <tr key={q.id} data-testid="question-row">
                <td><div className="truncate">{q.text}</div>{q.externalId && <div className="small muted mono">{q.externalId}</div>}</td>
                <td className="small">{q.category.nameZh}<br />{q.category.nameEn}</td>
                <td>{q.language}</td>
                <td className="num">{q._count.battles}</td>
                <td><span className={`badge ${q.active ? "active" : "retired"}`}>{q.active ? "active" : "inactive"}</span></td>
                <td>
                  <div className="admin-row">
                    <Link href={`/admin/questions/${q.id}`}>编辑 Edit</Link>
                    <ActionButton url={`/api/admin/questions/${q.id}`} method="PATCH" body={{ active: !q.active }} label={q.active ? "停用 Deactivate" : "启用 Activate"} testId="question-toggle" />
                    {q._count.battles === 0 && <ActionButton url={`/api/admin/questions/${q.id}`} method="DELETE" label="删除 Delete" confirm="Delete this question?" testId="question-delete" />}
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="admin-row" data-testid="question-pages">
        {list.page > 1 && <Link href={pageHref(list.page - 1)} data-testid="question-prev">← 上一页 Previous</Link>}
        {list.page < list.pages && <Link href={pageHref(list.page + 1)} data-testid="question-next">下一页 Next →</Link>}
      </div>
      <h2>添加问题 Add a question</h2>
      <QuestionForm categories={categories} />
    </div>
  );
}

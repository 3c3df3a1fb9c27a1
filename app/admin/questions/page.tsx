import Link from "next/link";
import { ActionButton } from "@/components/admin/action-button";
import { QuestionForm } from "@/components/admin/question-form";
import { listCategories } from "@/lib/admin/categories";
import { listLanguages, listQuestions, questionFilterSchema } from "@/lib/admin/questions";
import { requireAdminPage } from "@/lib/auth/session";
import { fill, messages, nameIn } from "@/lib/i18n";
import { currentLang, titleFrom } from "@/lib/lang-server";
import { listAdminModels } from "@/lib/models/admin";

export const dynamic = "force-dynamic";
export const generateMetadata = titleFrom("adminQuestions.title");

type Search = Record<string, string | string[] | undefined>;

export default async function AdminQuestionsPage({ searchParams }: { searchParams: Promise<Search> }) {
  await requireAdminPage("/admin/questions");
  const lang = await currentLang();
  const said = messages(lang).adminQuestions;
  const raw = Object.fromEntries(Object.entries(await searchParams).filter(([, v]) => typeof v === "string" && v !== "")) as Record<string, string>;
  const parsed = questionFilterSchema.safeParse(raw);
  const filter = parsed.success ? parsed.data : questionFilterSchema.parse({});
  const [list, categories, languages, models] = await Promise.all([listQuestions(filter), listCategories(), listLanguages(), listAdminModels()]);
  const pageHref = (page: number) => `/admin/questions?${new URLSearchParams({ ...raw, page: String(page) })}`;
  return (
    <div>
      <div className="admin-row" style={{ justifyContent: "space-between" }}>
        <h1>{said.title}</h1>
        <div className="admin-row">
          <Link href="/admin/questions/import" data-testid="question-import-link">{said.import}</Link>
          <a href="/api/admin/questions/export?format=csv" data-testid="question-export-csv">{said.exportCsv}</a>
          <a href="/api/admin/questions/export?format=jsonl" data-testid="question-export-jsonl">{said.exportJsonl}</a>
        </div>
      </div>
      <form method="get" className="admin-form" data-testid="question-filters">
        <label>{said.search}<input name="q" defaultValue={filter.q} data-testid="question-search" /></label>
        <label>
          {said.category}
          <select name="category" defaultValue={filter.category ?? ""} data-testid="question-filter-category">
            <option value="">{said.all}</option>
            {categories.map((c) => <option key={c.id} value={c.id}>{nameIn(lang, c)}</option>)}
          </select>
        </label>
        <label>
          {said.language}
          <select name="language" defaultValue={filter.language ?? ""} data-testid="question-filter-language">
            <option value="">{said.all}</option>
            {languages.map((l) => <option key={l}>{l}</option>)}
          </select>
        </label>
        <label>
          {said.active}
          <select name="active" defaultValue={filter.active ?? ""} data-testid="question-filter-active">
            <option value="">{said.all}</option><option value="true">{said.activeOnly}</option><option value="false">{said.inactiveOnly}</option>
          </select>
        </label>
        <label>
          {said.answeredBy}
          <select name="answeredBy" defaultValue={filter.answeredBy ?? ""} data-testid="question-filter-answered">
            <option value="">{said.any}</option>
            {models.map((m) => <option key={m.id} value={m.id}>{m.displayName}</option>)}
          </select>
        </label>
        <button type="submit" data-testid="question-filter-apply">{said.filter}</button>
      </form>
      <p className="muted small" data-testid="question-total">{fill(said.total, { total: list.total, page: list.page, pages: list.pages })}</p>
      <div className="admin-scroll">
        <table className="admin-table" data-testid="question-list">
          <thead><tr><th>{said.colQuestion}</th><th>{said.colCategory}</th><th>{said.colLanguage}</th><th>{said.colBattles}</th><th>{said.colStatus}</th><th>{said.colActions}</th></tr></thead>
          <tbody>
            {list.rows.map((q) => (
              <tr key={q.id} data-testid="question-row">
                <td><div className="truncate" data-stored>{q.text}</div>{q.externalId && <div className="small muted mono">{q.externalId}</div>}</td>
                <td className="small">{nameIn(lang, q.category)}</td>
                <td>{q.language}</td>
                <td className="num">{q._count.battles}</td>
                <td><span className={`badge ${q.active ? "active" : "retired"}`}>{q.active ? said.statusActive : said.statusInactive}</span></td>
                <td>
                  <div className="admin-row">
                    <Link href={`/admin/questions/${q.id}`}>{said.edit}</Link>
                    <ActionButton url={`/api/admin/questions/${q.id}`} method="PATCH" body={{ active: !q.active }} label={q.active ? said.deactivate : said.activate} testId="question-toggle" />
                    {q._count.battles === 0 && <ActionButton url={`/api/admin/questions/${q.id}`} method="DELETE" label={said.delete} confirm={said.confirmDelete} testId="question-delete" />}
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="admin-row" data-testid="question-pages">
        {list.page > 1 && <Link href={pageHref(list.page - 1)} data-testid="question-prev">{said.previous}</Link>}
        {list.page < list.pages && <Link href={pageHref(list.page + 1)} data-testid="question-next">{said.next}</Link>}
      </div>
      <h2>{said.addHeading}</h2>
      <QuestionForm categories={categories} lang={lang} said={said} />
    </div>
  );
}

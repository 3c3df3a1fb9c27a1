import { CategoryEditor } from "@/components/admin/category-editor";
import { listCategories } from "@/lib/admin/categories";
import { requireAdminPage } from "@/lib/auth/session";
import { fill, messages } from "@/lib/i18n";
import { currentLang, titleFrom } from "@/lib/lang-server";

export const dynamic = "force-dynamic";
export const generateMetadata = titleFrom("adminCategories.title");

export default async function AdminCategoriesPage() {
  await requireAdminPage("/admin/categories");
  const said = messages(await currentLang()).adminCategories;
  const categories = await listCategories();
  return (
    <div>
      <h1>{said.title}</h1>
      <p className="muted small">{said.deleteRule}</p>
      <p className="muted small">{said.aliasRule}</p>
      <div className="card">
        {categories.map((c) => (
          <div key={c.id}>
            <CategoryEditor category={c} said={said} />
            <div className="small muted" style={{ marginTop: "-0.4rem" }}>{fill(said.questionCount, { n: c._count.questions })}</div>
          </div>
        ))}
        <h3>{said.newCategory}</h3>
        <CategoryEditor said={said} />
      </div>
    </div>
  );
}

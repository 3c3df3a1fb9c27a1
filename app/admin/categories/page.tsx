import { CategoryEditor } from "@/components/admin/category-editor";
import { listCategories } from "@/lib/admin/categories";
import { requireAdminPage } from "@/lib/auth/session";

export const dynamic = "force-dynamic";

export default async function AdminCategoriesPage() {
  await requireAdminPage("/admin/categories");
  const categories = await listCategories();
  return (
    <div>
      <h1>类别 Categories</h1>
      <p className="muted small">只有没有问题和对战的类别可以删除。 Only a category without questions or battles can be deleted.</p>
      <p className="muted small">
        别名（逗号或换行分隔）：导入问题时，类别可以写 slug、中文名、英文名或任一别名，不分大小写、全角半角，“、”“，”“/”与空格视为相同。
        Aliases (comma or newline separated): the question import takes a category by slug, either name or any alias, ignoring case, width and separators.
      </p>
      <div className="card">
        {categories.map((c) => (
          <div key={c.id}>
            <CategoryEditor category={c} />
            <div className="small muted" style={{ marginTop: "-0.4rem" }}>{c._count.questions} questions</div>
          </div>
        ))}
        <h3>新类别 New category</h3>
        <CategoryEditor />
      </div>
    </div>
  );
}

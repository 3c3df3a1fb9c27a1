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

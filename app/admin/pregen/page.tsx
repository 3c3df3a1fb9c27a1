import { PregenPanel } from "@/components/admin/pregen-panel";
import { listCategories } from "@/lib/admin/categories";
import { listPregenRuns } from "@/lib/admin/pregen";
import { requireAdminPage } from "@/lib/auth/session";
import { listAdminModels } from "@/lib/models/admin";

export const dynamic = "force-dynamic";

export default async function AdminPregenPage() {
  await requireAdminPage("/admin/pregen");
  const [models, categories, runs] = await Promise.all([listAdminModels(), listCategories(), listPregenRuns()]);
  return (
    <div>
      <h1>预生成 Pre-generation</h1>
      <p className="muted small">
        提前为题库生成回答，题库对战即可秒开。已有相同参数回答的问题会跳过。 Answers bank questions ahead of time so bank battles open instantly;
        questions that already have an answer with the same parameters are skipped.
      </p>
      <PregenPanel
        models={models.filter((m) => m.status === "active").map((m) => ({ id: m.id, label: m.displayName }))}
        categories={categories.map((c) => ({ id: c.id, label: `${c.nameZh} ${c.nameEn}` }))}
        initialRuns={JSON.parse(JSON.stringify(runs))}
      />
    </div>
  );
}

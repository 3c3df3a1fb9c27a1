import { JudgePanel } from "@/components/admin/judge-panel";
import { listCategories } from "@/lib/admin/categories";
import { listJudgeRuns } from "@/lib/admin/judge";
import { requireAdminPage } from "@/lib/auth/session";
import { messages, nameIn } from "@/lib/i18n";
import { currentLang, titleFrom } from "@/lib/lang-server";
import { listAdminModels } from "@/lib/models/admin";

export const dynamic = "force-dynamic";
export const generateMetadata = titleFrom("adminJudge.title");

export default async function AdminJudgePage() {
  await requireAdminPage("/admin/judge");
  const lang = await currentLang();
  const { adminJudge: said, adminCommon: common } = messages(lang);
  const [models, categories, runs] = await Promise.all([listAdminModels(), listCategories(), listJudgeRuns()]);
  return (
    <div>
      <h1>{said.title}</h1>
      <p className="muted small">{said.intro}</p>
      <JudgePanel
        models={models.filter((m) => m.status === "active").map((m) => ({ id: m.id, label: m.displayName }))}
        categories={categories.map((c) => ({ id: c.id, label: nameIn(lang, c) }))}
        initialRuns={JSON.parse(JSON.stringify(runs))}
        said={{ ...said, ...common }}
      />
    </div>
  );
}

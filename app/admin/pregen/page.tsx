import { PregenPanel } from "@/components/admin/pregen-panel";
import { listCategories } from "@/lib/admin/categories";
import { listPregenRuns } from "@/lib/admin/pregen";
import { requireAdminPage } from "@/lib/auth/session";
import { messages, nameIn } from "@/lib/i18n";
import { currentLang, titleFrom } from "@/lib/lang-server";
import { listAdminModels } from "@/lib/models/admin";

export const dynamic = "force-dynamic";
export const generateMetadata = titleFrom("adminPregen.title");

export default async function AdminPregenPage() {
  await requireAdminPage("/admin/pregen");
  const lang = await currentLang();
  const { adminPregen: said, adminCommon: common } = messages(lang);
  const [models, categories, runs] = await Promise.all([listAdminModels(), listCategories(), listPregenRuns()]);
  return (
    <div>
      <h1>{said.title}</h1>
      <p className="muted small">{said.intro}</p>
      <PregenPanel
        models={models.filter((m) => m.status === "active").map((m) => ({ id: m.id, label: m.displayName }))}
        categories={categories.map((c) => ({ id: c.id, label: nameIn(lang, c) }))}
        initialRuns={JSON.parse(JSON.stringify(runs))}
        said={{ ...said, ...common }}
      />
    </div>
  );
}

import { JudgePanel } from "@/components/admin/judge-panel";
import { listCategories } from "@/lib/admin/categories";
import { listJudgeRuns } from "@/lib/admin/judge";
import { requireAdminPage } from "@/lib/auth/session";
import { listAdminModels } from "@/lib/models/admin";

export const dynamic = "force-dynamic";

export default async function AdminJudgePage() {
  await requireAdminPage("/admin/judge");
  const [models, categories, runs] = await Promise.all([listAdminModels(), listCategories(), listJudgeRuns()]);
  return (
    <div>
      <h1>AI 评审 AI judge</h1>
      <p className="muted small">
        用一个模型评判参赛模型的题库回答，每对回答按两种顺序各评一次。结果不计入人类排行榜。 A judge model compares the contestants&apos; bank
        answers, each pair in both orders. Judge verdicts never enter the human leaderboard.
      </p>
      <JudgePanel
        models={models.filter((m) => m.status === "active").map((m) => ({ id: m.id, label: m.displayName }))}
        categories={categories.map((c) => ({ id: c.id, label: `${c.nameZh} ${c.nameEn}` }))}
        initialRuns={JSON.parse(JSON.stringify(runs))}
      />
    </div>
  );
}

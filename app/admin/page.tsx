import { getAdminOverview } from "@/lib/admin/overview";
import { requireAdminPage } from "@/lib/auth/session";

export const dynamic = "force-dynamic";

export default async function AdminDashboard() {
  const admin = await requireAdminPage("/admin");
  const overview = await getAdminOverview();
  const cards: [string, string, number][] = [
    ["models", "模型 Active models", overview.models.active],
    ["questions", "题库 Active questions", overview.questions.active],
    ["battles", "对战 Battles", overview.battles],
    ["votes", "有效票 Valid votes", overview.votes.valid],
    ["queued", "排队生成 Queued generations", overview.generations.queued],
    ["failed", "失败生成 Failed generations", overview.generations.failed],
  ];
  return (
    <div>
      <h1 data-testid="admin-title">管理 · Admin</h1>
      <p className="muted" data-testid="admin-user">Signed in as {admin.email}</p>
      <div className="grid">
        {cards.map(([key, label, value]) => (
          <div className="card" key={key} data-testid={`admin-stat-${key}`}>
            <div className="muted">{label}</div>
            <div className="stat">{value}</div>
          </div>
        ))}
      </div>
    </div>
  );
}

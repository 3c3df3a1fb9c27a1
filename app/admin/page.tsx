import Link from "next/link";
import { getAdminOverview } from "@/lib/admin/overview";
import { listAudit } from "@/lib/audit";
import { requireAdminPage } from "@/lib/auth/session";

export const dynamic = "force-dynamic";

export default async function AdminDashboard() {
  const admin = await requireAdminPage("/admin");
  const [overview, recent] = await Promise.all([getAdminOverview(), listAudit({ limit: 8 })]);
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
      <h2>最近变更 Recent changes</h2>
      <ul className="small" data-testid="admin-recent">
        {recent.map((e) => (
          <li key={e.id}>
            <span className="muted">{e.createdAt.toISOString().replace("T", " ").slice(0, 16)}</span> {e.actor?.email ?? "—"} · <span className="mono">{e.action}</span>
          </li>
        ))}
        {recent.length === 0 && <li className="muted">还没有变更。Nothing yet.</li>}
      </ul>
      <Link href="/admin/audit">审计日志 Full audit log →</Link>
    </div>
  );
}

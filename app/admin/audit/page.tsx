import { listAudit } from "@/lib/audit";
import { requireAdminPage } from "@/lib/auth/session";

export const dynamic = "force-dynamic";

const TYPES = ["model", "question", "category", "vote", "user", "pregen_run", "generation", "rating_run"];

export default async function AdminAuditPage({ searchParams }: { searchParams: Promise<{ type?: string; target?: string }> }) {
  await requireAdminPage("/admin/audit");
  const { type, target } = await searchParams;
  const entries = await listAudit({ targetType: TYPES.includes(type ?? "") ? type : undefined, targetId: target || undefined, limit: 200 });
  return (
    <div>
      <h1>审计日志 Audit log</h1>
      <form method="get" className="admin-row">
        <select name="type" defaultValue={type ?? ""} aria-label="Target type" data-testid="audit-type">
          <option value="">全部 All</option>
          {TYPES.map((t) => <option key={t}>{t}</option>)}
        </select>
        <input name="target" defaultValue={target} placeholder="target id" aria-label="Target id" />
        <button type="submit">筛选 Filter</button>
      </form>
      <div className="admin-scroll">
        <table className="admin-table" data-testid="audit-list">
          <thead><tr><th>时间 Time</th><th>操作人 Actor</th><th>操作 Action</th><th>对象 Target</th><th>变更 Change</th></tr></thead>
          <tbody>
            {entries.map((e) => (
              <tr key={e.id} data-testid="audit-row">
                <td className="small">{e.createdAt.toISOString().replace("T", " ").slice(0, 19)}</td>
                <td className="small">{e.actor?.email ?? "—"}</td>
                <td className="mono">{e.action}</td>
                <td className="mono">{e.targetType}{e.targetId ? ` ${e.targetId}` : ""}</td>
                <td>
                  <details>
                    <summary className="small">before / after</summary>
                    <pre className="mono small" style={{ whiteSpace: "pre-wrap" }}>{JSON.stringify({ before: e.before, after: e.after }, null, 1)}</pre>
                  </details>
                </td>
              </tr>
            ))}
            {entries.length === 0 && <tr><td colSpan={5} className="muted">没有记录。Nothing yet.</td></tr>}
          </tbody>
        </table>
      </div>
    </div>
  );
}

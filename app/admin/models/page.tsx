import Link from "next/link";
import { ActionButton } from "@/components/admin/action-button";
import { modelHealthLabels } from "@/lib/admin/system";
import { requireAdminPage } from "@/lib/auth/session";
import { listAdminModels } from "@/lib/models/admin";

export const dynamic = "force-dynamic";

export default async function AdminModelsPage() {
  await requireAdminPage("/admin/models");
  const models = await listAdminModels();
  const health = await modelHealthLabels(models.map((m) => m.id));
  return (
    <div>
      <div className="admin-row" style={{ justifyContent: "space-between" }}>
        <h1>模型 Models</h1>
        <Link href="/admin/models/new" data-testid="model-add">+ 添加模型 Add model</Link>
      </div>
      <div className="admin-scroll">
        <table className="admin-table" data-testid="model-list">
          <thead>
            <tr><th>模型 Model</th><th>类型 Kind</th><th>状态 Status</th><th>健康 Health</th><th>对战 Battles</th><th>Elo</th><th>权重 Weight</th><th>操作 Actions</th></tr>
          </thead>
          <tbody>
            {models.map((m) => {
              const h = health.get(m.id);
              return (
                <tr key={m.id} data-testid={`model-row-${m.slug}`}>
                  <td><Link href={`/admin/models/${m.id}`}>{m.displayName}</Link><div className="muted small mono">{m.slug}</div></td>
                  <td>{m.kind}</td>
                  <td><span className={`badge ${m.status}`} data-testid={`model-status-${m.slug}`}>{m.status}</span></td>
                  <td>
                    <span className={`badge ${(h?.label ?? "unknown").replace(" ", "-")}`} data-testid={`model-health-${m.slug}`}>{h?.label ?? "unknown"}</span>
                    {h?.health?.healthy && <div className="small muted">{h.health.workers} worker(s) · {h.health.tokensPerSecond.toFixed(1)} tok/s</div>}
                  </td>
                  <td className="num">{m.battles}</td>
                  <td className="num">{Math.round(m.elo)}</td>
                  <td className="num">{m.battleWeight}</td>
                  <td>
                    <div className="admin-row">
                      {m.status !== "active" && <ActionButton url={`/api/admin/models/${m.id}/status`} body={{ status: "active" }} label="启用 Enable" testId={`model-enable-${m.slug}`} />}
                      {m.status === "active" && <ActionButton url={`/api/admin/models/${m.id}/status`} body={{ status: "disabled" }} label="停用 Disable" testId={`model-disable-${m.slug}`} />}
                      {m.status !== "retired" && <ActionButton url={`/api/admin/models/${m.id}/status`} body={{ status: "retired" }} label="退役 Retire" confirm="Retire this model? Its rating stays visible but frozen." testId={`model-retire-${m.slug}`} />}
                    </div>
                  </td>
                </tr>
              );
            })}
            {models.length === 0 && <tr><td colSpan={8} className="muted">还没有模型。No models yet.</td></tr>}
          </tbody>
        </table>
      </div>
      <p className="small muted">
        保存时检查连通性；检查失败的模型保存为停用。 Saving checks that the model is reachable; a model that fails the check is saved as disabled, with the reason.
      </p>
    </div>
  );
}

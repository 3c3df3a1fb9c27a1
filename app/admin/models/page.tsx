import Link from "next/link";
import { ActionButton } from "@/components/admin/action-button";
import { modelHealthLabels } from "@/lib/admin/system";
import { requireAdminPage } from "@/lib/auth/session";
import { fill, messages } from "@/lib/i18n";
import { currentLang, titleFrom } from "@/lib/lang-server";
import { listAdminModels } from "@/lib/models/admin";
import { healthLabel, kindLabel, statusLabel } from "./labels";

export const dynamic = "force-dynamic";
export const generateMetadata = titleFrom("adminModels.title");

export default async function AdminModelsPage() {
  await requireAdminPage("/admin/models");
  const said = messages(await currentLang()).adminModels;
  const models = await listAdminModels();
  const health = await modelHealthLabels(models.map((m) => m.id));
  return (
    <div>
      <div className="admin-row" style={{ justifyContent: "space-between" }}>
        <h1>{said.title}</h1>
        <Link href="/admin/models/new" data-testid="model-add">{said.add}</Link>
      </div>
      <div className="admin-scroll">
        <table className="admin-table" data-testid="model-list">
          <thead>
            <tr><th>{said.colModel}</th><th>{said.colKind}</th><th>{said.colStatus}</th><th>{said.colHealth}</th><th>{said.colBattles}</th><th>{said.colElo}</th><th>{said.colWeight}</th><th>{said.colActions}</th></tr>
          </thead>
          <tbody>
            {models.map((m) => {
              const h = health.get(m.id);
              const label = h?.label ?? "unknown";
              return (
                <tr key={m.id} data-testid={`model-row-${m.slug}`}>
                  <td><Link href={`/admin/models/${m.id}`}>{m.displayName}</Link><div className="muted small mono">{m.slug}</div></td>
                  <td>{kindLabel(said, m.kind)}</td>
                  <td><span className={`badge ${m.status}`} data-testid={`model-status-${m.slug}`} data-status={m.status}>{statusLabel(said, m.status)}</span></td>
                  <td>
                    <span className={`badge ${label.replace(" ", "-")}`} data-testid={`model-health-${m.slug}`} data-health={label}>{healthLabel(said, label)}</span>
                    {h?.health?.healthy && <div className="small muted">{fill(said.workers, { n: h.health.workers, tps: h.health.tokensPerSecond.toFixed(1) })}</div>}
                  </td>
                  <td className="num">{m.battles}</td>
                  <td className="num">{Math.round(m.elo)}</td>
                  <td className="num">{m.battleWeight}</td>
                  <td>
                    <div className="admin-row">
                      {m.status !== "active" && <ActionButton url={`/api/admin/models/${m.id}/status`} body={{ status: "active" }} label={said.enable} testId={`model-enable-${m.slug}`} />}
                      {m.status === "active" && <ActionButton url={`/api/admin/models/${m.id}/status`} body={{ status: "disabled" }} label={said.disable} testId={`model-disable-${m.slug}`} />}
                      {m.status !== "retired" && <ActionButton url={`/api/admin/models/${m.id}/status`} body={{ status: "retired" }} label={said.retire} confirm={said.confirmRetire} testId={`model-retire-${m.slug}`} />}
                    </div>
                  </td>
                </tr>
              );
            })}
            {models.length === 0 && <tr><td colSpan={8} className="muted">{said.none}</td></tr>}
          </tbody>
        </table>
      </div>
      <p className="small muted">{said.checkRule}</p>
    </div>
  );
}

import { listAudit } from "@/lib/audit";
import { requireAdminPage } from "@/lib/auth/session";
import { messages } from "@/lib/i18n";
import { currentLang, titleFrom } from "@/lib/lang-server";

export const dynamic = "force-dynamic";
export const generateMetadata = titleFrom("adminAudit.title");

/** The audit log's target types, and what the page calls each. */
const TYPES = {
  model: "typeModel", question: "typeQuestion", category: "typeCategory", vote: "typeVote", battle: "typeBattle", user: "typeUser",
  pregen_run: "typePregenRun", judge_run: "typeJudgeRun", generation: "typeGeneration", rating_run: "typeRatingRun", queue: "typeQueue",
  arena_settings: "typeArenaSettings", rating_settings: "typeRatingSettings",
} as const;

const isType = (type: string | undefined): type is keyof typeof TYPES => type !== undefined && Object.hasOwn(TYPES, type);

export default async function AdminAuditPage({ searchParams }: { searchParams: Promise<{ type?: string; target?: string }> }) {
  await requireAdminPage("/admin/audit");
  const said = messages(await currentLang()).adminAudit;
  const { type, target } = await searchParams;
  const entries = await listAudit({ targetType: isType(type) ? type : undefined, targetId: target || undefined, limit: 200 });
  const typeName = (t: string) => (isType(t) ? said[TYPES[t]] : t);
  return (
    <div>
      <h1>{said.title}</h1>
      <form method="get" className="admin-row">
        <select name="type" defaultValue={type ?? ""} aria-label={said.targetType} data-testid="audit-type">
          <option value="">{said.allTypes}</option>
          {Object.keys(TYPES).map((t) => <option key={t} value={t}>{typeName(t)}</option>)}
        </select>
        <input name="target" defaultValue={target} placeholder={said.targetId} aria-label={said.targetId} />
        <button type="submit">{said.filter}</button>
      </form>
      <div className="admin-scroll">
        <table className="admin-table" data-testid="audit-list">
          <thead><tr><th>{said.colTime}</th><th>{said.colActor}</th><th>{said.colAction}</th><th>{said.colTarget}</th><th>{said.colChange}</th></tr></thead>
          <tbody>
            {entries.map((e) => (
              <tr key={e.id} data-testid="audit-row">
                <td className="small">{e.createdAt.toISOString().replace("T", " ").slice(0, 19)}</td>
                <td className="small" data-stored>{e.actor?.email ?? "—"}</td>
                <td className="mono">{e.action}</td>
                <td>{typeName(e.targetType)}{e.targetId && <span className="mono small"> {e.targetId}</span>}</td>
                <td>
                  <details>
                    <summary className="small">{said.beforeAfter}</summary>
                    <pre className="mono small" style={{ whiteSpace: "pre-wrap" }} data-stored>{JSON.stringify({ before: e.before, after: e.after }, null, 1)}</pre>
                  </details>
                </td>
              </tr>
            ))}
            {entries.length === 0 && <tr><td colSpan={5} className="muted">{said.nothingYet}</td></tr>}
          </tbody>
        </table>
      </div>
    </div>
  );
}

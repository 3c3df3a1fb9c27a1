import Link from "next/link";
import { getAdminOverview } from "@/lib/admin/overview";
import { listAudit } from "@/lib/audit";
import { requireAdminPage } from "@/lib/auth/session";
import { fill, messages } from "@/lib/i18n";
import { currentLang, titleFrom } from "@/lib/lang-server";

export const dynamic = "force-dynamic";
export const generateMetadata = titleFrom("adminOverview.title");

export default async function AdminDashboard() {
  const admin = await requireAdminPage("/admin");
  const said = messages(await currentLang()).adminOverview;
  const [overview, recent] = await Promise.all([getAdminOverview(), listAudit({ limit: 8 })]);
  const cards: [string, string, number][] = [
    ["models", said.activeModels, overview.models.active],
    ["questions", said.activeQuestions, overview.questions.active],
    ["battles", said.battles, overview.battles],
    ["votes", said.validVotes, overview.votes.valid],
    ["queued", said.queuedGenerations, overview.generations.queued],
    ["failed", said.failedGenerations, overview.generations.failed],
  ];
  return (
    <div>
      <h1 data-testid="admin-title">{said.title}</h1>
      <p className="muted" data-testid="admin-user">{fill(said.signedInAs, { email: admin.email })}</p>
      <div className="grid">
        {cards.map(([key, label, value]) => (
          <div className="card" key={key} data-testid={`admin-stat-${key}`}>
            <div className="muted">{label}</div>
            <div className="stat">{value}</div>
          </div>
        ))}
      </div>
      <h2>{said.recentChanges}</h2>
      <ul className="small" data-testid="admin-recent">
        {recent.map((e) => (
          <li key={e.id}>
            <span className="muted">{e.createdAt.toISOString().replace("T", " ").slice(0, 16)}</span> <span data-stored>{e.actor?.email ?? "—"}</span> · <span className="mono">{e.action}</span>
          </li>
        ))}
        {recent.length === 0 && <li className="muted">{said.nothingYet}</li>}
      </ul>
      <Link href="/admin/audit">{said.fullAuditLog}</Link>
    </div>
  );
}

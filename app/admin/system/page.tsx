import { ActionButton } from "@/components/admin/action-button";
import { Said } from "@/components/admin/said";
import { COUNTED_STATES as STATES, queueLabel, type CountedState } from "@/lib/admin/queues";
import { getSystemStatus } from "@/lib/admin/system";
import { requireAdminPage } from "@/lib/auth/session";
import { fill, messages } from "@/lib/i18n";
import { currentLang, titleFrom } from "@/lib/lang-server";

export const dynamic = "force-dynamic";
export const generateMetadata = titleFrom("adminSystem.title");

const STATE_NAMES = {
  waiting: "stateWaiting", prioritized: "statePrioritized", active: "stateActive", delayed: "stateDelayed", failed: "stateFailed", completed: "stateCompleted",
} as const satisfies Record<CountedState, string>;
const PURPOSE_NAMES = { live: "purposeLive", pregen: "purposePregen", test: "purposeTest", judge: "purposeJudge" } as const;

function Badge({ ok, text }: { ok: boolean; text: string }) {
  return <span className={`badge ${ok ? "ok" : "bad"}`}>{text}</span>;
}

export default async function AdminSystemPage() {
  await requireAdminPage("/admin/system");
  const { adminSystem: said, adminQueueNames: queueNames } = messages(await currentLang());
  const s = await getSystemStatus();
  const now = Date.now();
  const generationQueues = s.queues.filter((q) => q.kind === "generation");
  const pendingGenerationJobs = generationQueues.some((q) => !q.counts)
    ? null
    : generationQueues.reduce((sum, q) => sum + q.counts!.waiting + q.counts!.prioritized + q.counts!.active + q.counts!.delayed, 0);
  const reach = (ok: boolean) => (ok ? said.reachable : said.unreachable);
  return (
    <div>
      <h1>{said.title}</h1>
      <div className="grid" data-testid="system-services">
        <div className="card" data-testid="system-postgres"><div className="muted">PostgreSQL</div><Badge ok={s.services.postgres.ok} text={reach(s.services.postgres.ok)} /> <span className="small muted">{fill(said.latency, { ms: s.services.postgres.latencyMs })}</span></div>
        <div className="card" data-testid="system-redis"><div className="muted">Redis</div><Badge ok={s.services.redis.ok} text={reach(s.services.redis.ok)} /> <span className="small muted">{fill(said.latency, { ms: s.services.redis.latencyMs })}</span></div>
        <div className="card" data-testid="system-workers"><div className="muted">{said.workers}</div><Badge ok={s.workers.length > 0} text={fill(said.workersAlive, { n: new Set(s.workers.map((w) => w.workerId)).size })} /></div>
        {s.runtimes.map((r) => (
          <div className="card" key={r.url} data-testid="system-runtime">
            <div className="muted">{said.runtime} <span className="mono">{r.url}</span></div>
            {/* An HTTP status says more than "not reachable" when the runtime answered. */}
            <Badge ok={r.ok} text={r.ok ? said.reachable : r.message.startsWith("HTTP") ? `${said.unreachable} · ${r.message}` : said.unreachable} />
          </div>
        ))}
      </div>
      <h2>{said.queues}</h2>
      <p className="small">
        {/* Not a Next.js route: the queue console is served beside the app (lib/web/queue-console.ts). */}
        <a href="/admin/queues" data-testid="system-queue-console">{said.queueConsole}</a>{said.queueConsoleHint}
      </p>
      <p className="small" data-testid="system-open-generations">
        <Said text={said.openGenerations} parts={{ n: <span className="num" data-testid="system-open-generations-count">{s.openGenerations}</span> }} /> ·{" "}
        <Said text={said.pendingJobs} parts={{ n: <span className="num" data-testid="system-pending-jobs-count">{pendingGenerationJobs ?? "?"}</span> }} />
        {pendingGenerationJobs !== null && s.openGenerations > pendingGenerationJobs && <> <Badge ok={false} text={said.strandedJobs} /></>}
      </p>
      <div className="admin-scroll">
        <table className="admin-table" data-testid="system-queues">
          <thead><tr><th>{said.colQueue}</th>{STATES.map((k) => <th key={k}>{said[STATE_NAMES[k]]}</th>)}<th>{said.colWorkers}</th></tr></thead>
          <tbody>
            {s.queues.map((q) => {
              const workers = q.model ? s.workers.filter((w) => w.modelId === q.model!.id) : [];
              return (
                <tr key={q.name} data-testid="system-queue" data-queue={q.name}>
                  <td><div>{queueLabel(q, queueNames)}</div><div className="small muted mono">{q.name}</div></td>
                  {STATES.map((k) => <td className="num" key={k} data-testid={`system-queue-${k}`}>{q.counts ? q.counts[k] : "?"}</td>)}
                  <td className="small">
                    {q.model
                      ? workers.map((w) => fill(said.workerSeen, { worker: w.workerId, s: Math.round((now - w.lastSeen) / 1000), tps: w.tokensPerSecond.toFixed(1) })).join(", ") || "—"
                      : ""}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <h2>{said.failedGenerations}</h2>
      <div className="admin-scroll">
        <table className="admin-table" data-testid="system-failed">
          <thead><tr><th>{said.colTime}</th><th>{said.colModel}</th><th>{said.colPurpose}</th><th>{said.colError}</th><th></th></tr></thead>
          <tbody>
            {s.failed.map((g) => (
              <tr key={g.id} data-testid="failed-generation">
                <td className="small">{(g.finishedAt ?? g.createdAt).toISOString().replace("T", " ").slice(0, 19)}</td>
                <td className="mono">{g.model}</td><td>{said[PURPOSE_NAMES[g.purpose]]}</td><td className="small" data-stored>{g.error}</td>
                <td><ActionButton url={`/api/admin/generations/${g.id}/retry`} label={said.retry} testId="failed-generation-retry" /></td>
              </tr>
            ))}
            {s.failed.length === 0 && <tr><td colSpan={5} className="muted">{said.nothingFailed}</td></tr>}
          </tbody>
        </table>
      </div>
    </div>
  );
}

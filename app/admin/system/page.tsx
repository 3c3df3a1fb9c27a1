import { ActionButton } from "@/components/admin/action-button";
import { COUNTED_STATES as STATES } from "@/lib/admin/queues";
import { getSystemStatus } from "@/lib/admin/system";
import { requireAdminPage } from "@/lib/auth/session";

export const dynamic = "force-dynamic";

function Badge({ ok, text }: { ok: boolean; text: string }) {
  return <span className={`badge ${ok ? "ok" : "bad"}`}>{text}</span>;
}

export default async function AdminSystemPage() {
  await requireAdminPage("/admin/system");
  const s = await getSystemStatus();
  const now = Date.now();
  const generationQueues = s.queues.filter((q) => q.kind === "generation");
  const pendingGenerationJobs = generationQueues.some((q) => !q.counts)
    ? null
    : generationQueues.reduce((sum, q) => sum + q.counts!.waiting + q.counts!.prioritized + q.counts!.active + q.counts!.delayed, 0);
  return (
    <div>
      <h1>系统 System</h1>
      <div className="grid" data-testid="system-services">
        <div className="card" data-testid="system-postgres"><div className="muted">PostgreSQL</div><Badge ok={s.services.postgres.ok} text={s.services.postgres.message} /> <span className="small muted">{s.services.postgres.latencyMs} ms</span></div>
        <div className="card" data-testid="system-redis"><div className="muted">Redis</div><Badge ok={s.services.redis.ok} text={s.services.redis.message} /> <span className="small muted">{s.services.redis.latencyMs} ms</span></div>
        <div className="card" data-testid="system-workers"><div className="muted">工作进程 Workers</div><Badge ok={s.workers.length > 0} text={`${new Set(s.workers.map((w) => w.workerId)).size} alive`} /></div>
        {s.runtimes.map((r) => (
          <div className="card" key={r.url} data-testid="system-runtime"><div className="muted">Runtime <span className="mono">{r.url}</span></div><Badge ok={r.ok} text={r.message} /></div>
        ))}
      </div>
      <h2>队列 Queues</h2>
      <p className="small">
        {/* Not a Next.js route: the queue console is served beside the app (lib/web/queue-console.ts). */}
        <a href="/admin/queues" data-testid="system-queue-console">队列控制台 Queue console</a> — every job, its failure reason, retry and clean.
      </p>
      <p className="small" data-testid="system-open-generations">
        PostgreSQL: <span className="num" data-testid="system-open-generations-count">{s.openGenerations}</span> generations queued or running ·
        Redis: <span className="num" data-testid="system-pending-jobs-count">{pendingGenerationJobs ?? "?"}</span> generation jobs waiting or running
        {pendingGenerationJobs !== null && s.openGenerations > pendingGenerationJobs && <> <Badge ok={false} text="some have no job: the reconciler re-enqueues them" /></>}
      </p>
      <div className="admin-scroll">
        <table className="admin-table" data-testid="system-queues">
          <thead><tr><th>队列 Queue</th>{STATES.map((k) => <th key={k}>{k}</th>)}<th>workers</th></tr></thead>
          <tbody>
            {s.queues.map((q) => {
              const workers = q.model ? s.workers.filter((w) => w.modelId === q.model!.id) : [];
              return (
                <tr key={q.name} data-testid="system-queue" data-queue={q.name}>
                  <td><div>{q.label}</div><div className="small muted mono">{q.name}</div></td>
                  {STATES.map((k) => <td className="num" key={k} data-testid={`system-queue-${k}`}>{q.counts ? q.counts[k] : "?"}</td>)}
                  <td className="small">{q.model ? workers.map((w) => `${w.workerId} (${Math.round((now - w.lastSeen) / 1000)} s ago, ${w.tokensPerSecond.toFixed(1)} tok/s)`).join(", ") || "—" : ""}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <h2>最近失败的生成 Recent failed generations</h2>
      <div className="admin-scroll">
        <table className="admin-table" data-testid="system-failed">
          <thead><tr><th>时间 Time</th><th>模型 Model</th><th>用途 Purpose</th><th>错误 Error</th><th></th></tr></thead>
          <tbody>
            {s.failed.map((g) => (
              <tr key={g.id} data-testid="failed-generation">
                <td className="small">{(g.finishedAt ?? g.createdAt).toISOString().replace("T", " ").slice(0, 19)}</td>
                <td className="mono">{g.model}</td><td>{g.purpose}</td><td className="small">{g.error}</td>
                <td><ActionButton url={`/api/admin/generations/${g.id}/retry`} label="重试 Retry" testId="failed-generation-retry" /></td>
              </tr>
            ))}
            {s.failed.length === 0 && <tr><td colSpan={5} className="muted">没有失败。Nothing failed.</td></tr>}
          </tbody>
        </table>
      </div>
    </div>
  );
}

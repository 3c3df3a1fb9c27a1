"use client";

import { useCallback, useEffect, useState } from "react";
import { callApi } from "./api";

type Progress = { status: string; total: number; done: number; failed: number; cancelled: number; running: number; queued: number; tokensPerSecond: number; etaSeconds: number | null };
type Run = { id: string; modelId: string; model: string; scope: string; createdAt: string; progress: Progress };
type Option = { id: string; label: string };

function eta(s: number | null): string {
  if (s === null) return "—";
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

function RunRow({ run, onChange }: { run: Run; onChange: () => void }) {
  const p = run.progress;
  const [error, setError] = useState<string | null>(null);
  const finished = p.done + p.failed + p.cancelled;
  const pct = p.total ? Math.floor((finished / p.total) * 100) : p.status === "running" ? 0 : 100;
  async function act(action: "cancel" | "retry") {
    const result = await callApi(`/api/admin/pregen/${run.id}/${action}`, { method: "POST", body: {} });
    setError(result.ok ? null : result.error.message);
    onChange();
  }
  return (
    <tr data-testid="pregen-run" data-model={run.modelId} data-status={p.status}>
      <td>{run.model}<div className="small muted">{run.scope} · {new Date(run.createdAt).toLocaleString()}</div></td>
      <td style={{ minWidth: 180 }}>
        <div className="progress" role="progressbar" aria-valuenow={pct} aria-valuemin={0} aria-valuemax={100} data-testid="pregen-progress" data-pct={pct}>
          <div className="done" style={{ width: `${p.total ? (p.done / p.total) * 100 : 0}%` }} />
          <div className="failed" style={{ width: `${p.total ? (p.failed / p.total) * 100 : 0}%` }} />
        </div>
        <div className="small" data-testid="pregen-counts"><span data-testid="pregen-pct">{pct}%</span> · {p.done}/{p.total} done · {p.failed} failed{p.cancelled ? ` · ${p.cancelled} cancelled` : ""}</div>
      </td>
      <td className="small">{p.tokensPerSecond.toFixed(1)} tok/s<br />ETA {eta(p.etaSeconds)}</td>
      <td><span className={`badge ${p.status === "completed" ? "ok" : p.status === "cancelled" ? "retired" : "active"}`} data-testid="pregen-status">{p.status}</span></td>
      <td>
        <div className="admin-row">
          {p.status === "running" && <button type="button" className="btn-quiet" onClick={() => act("cancel")} data-testid="pregen-cancel">取消 Cancel</button>}
          {p.failed > 0 && <button type="button" className="btn-quiet" onClick={() => act("retry")} data-testid="pregen-retry">重试失败 Retry failed</button>}
        </div>
        {error && <span className="error small">{error}</span>}
      </td>
    </tr>
  );
}

/** Start form and the live list of runs, polled every second while any run is going. */
export function PregenPanel({ models, categories, initialRuns }: { models: Option[]; categories: Option[]; initialRuns: Run[] }) {
  const [runs, setRuns] = useState<Run[]>(initialRuns);
  const [scope, setScope] = useState<"all" | "category" | "missing">("all");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const refresh = useCallback(async () => {
    const result = await callApi<{ runs: Run[] }>("/api/admin/pregen");
    if (result.ok) setRuns(result.data.runs);
  }, []);
  const active = runs.some((r) => r.progress.status === "running");
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(refresh, 1000);
    return () => clearInterval(timer);
  }, [active, refresh]);

  async function start(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const body = { modelIds: form.getAll("modelIds").map(String), scope, categoryId: scope === "category" ? String(form.get("categoryId")) : undefined };
    setBusy(true); setError(null);
    const result = await callApi("/api/admin/pregen", { method: "POST", body });
    setBusy(false);
    if (!result.ok) setError(result.error.message);
    await refresh();
  }

  return (
    <div>
      <form className="card admin-form" onSubmit={start} data-testid="pregen-form">
        <fieldset>
          <legend>模型 Models</legend>
          {models.map((m) => (
            <label key={m.id} style={{ flexDirection: "row", gap: "0.4rem", alignItems: "center" }}>
              <input type="checkbox" name="modelIds" value={m.id} data-testid={`pregen-model-${m.id}`} /> {m.label}
            </label>
          ))}
          {models.length === 0 && <span className="muted">没有启用的模型 No active models.</span>}
        </fieldset>
        <label>
          范围 Questions
          <select value={scope} onChange={(e) => setScope(e.target.value as typeof scope)} data-testid="pregen-scope">
            <option value="all">全部启用的问题 All active questions</option>
            <option value="category">某个类别 One category</option>
            <option value="missing">缺少回答的问题 Questions missing answers</option>
          </select>
        </label>
        {scope === "category" && (
          <label>
            类别 Category
            <select name="categoryId" data-testid="pregen-category">{categories.map((c) => <option key={c.id} value={c.id}>{c.label}</option>)}</select>
          </label>
        )}
        <div className="admin-row">
          <button type="submit" disabled={busy} data-testid="pregen-start">开始 Start</button>
          {error && <span className="error" role="alert" data-testid="pregen-error">{error}</span>}
        </div>
      </form>
      <div className="admin-scroll">
        <table className="admin-table" data-testid="pregen-runs">
          <thead><tr><th>模型 Model</th><th>进度 Progress</th><th>速度 Speed</th><th>状态 Status</th><th></th></tr></thead>
          <tbody>
            {runs.map((r) => <RunRow key={r.id} run={r} onChange={refresh} />)}
            {runs.length === 0 && <tr><td colSpan={5} className="muted">还没有预生成任务。No runs yet.</td></tr>}
          </tbody>
        </table>
      </div>
    </div>
  );
}

"use client";

import Link from "next/link";
import { useCallback, useEffect, useState } from "react";
import { callApi } from "./api";

type Progress = { status: string; total: number; done: number; failed: number; cancelled: number; running: number; queued: number; unparseable: number };
type Run = { id: string; version: number; judge: string; contestants: { id: string; name: string }[]; template: string; createdAt: string; progress: Progress };
type Option = { id: string; label: string };

function RunRow({ run, onChange }: { run: Run; onChange: () => void }) {
  const p = run.progress;
  const [error, setError] = useState<string | null>(null);
  async function act(action: "cancel" | "retry") {
    const result = await callApi(`/api/admin/judge-runs/${run.id}/${action}`, { method: "POST", body: {} });
    setError(result.ok ? null : result.error.message);
    onChange();
  }
  return (
    <tr data-testid="judge-run" data-status={p.status}>
      <td><Link href={`/admin/judge/${run.id}`}>#{run.version}</Link></td>
      <td>{run.judge}</td>
      <td className="small">{run.contestants.map((c) => c.name).join(" · ")}</td>
      <td>{run.template}</td>
      <td className="small">{p.done}/{p.total} done · {p.failed} failed · {p.unparseable} unparseable{p.cancelled ? ` · ${p.cancelled} cancelled` : ""}</td>
      <td><span className={`badge ${p.status === "completed" ? "ok" : p.status === "cancelled" ? "retired" : "active"}`}>{p.status}</span></td>
      <td>
        <div className="admin-row">
          {p.status === "running" && <button type="button" className="btn-quiet" onClick={() => act("cancel")}>取消 Cancel</button>}
          {p.failed > 0 && <button type="button" className="btn-quiet" onClick={() => act("retry")}>重试失败 Retry failed</button>}
          {error && <span className="error" role="alert">{error}</span>}
        </div>
      </td>
    </tr>
  );
}

/** Start form and the list of judge runs, polled every 2 s while any run is going. */
export function JudgePanel({ models, categories, initialRuns }: { models: Option[]; categories: Option[]; initialRuns: Run[] }) {
  const [runs, setRuns] = useState<Run[]>(initialRuns);
  const [template, setTemplate] = useState<"pairwise" | "score10" | "custom">("pairwise");
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const refresh = useCallback(async () => {
    const result = await callApi<{ runs: Run[] }>("/api/admin/judge-runs");
    if (result.ok) setRuns(result.data.runs);
  }, []);
  const active = runs.some((r) => r.progress.status === "running");
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(refresh, 2000);
    return () => clearInterval(timer);
  }, [active, refresh]);

  async function start(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const body = {
      judgeModelId: String(form.get("judgeModelId")),
      contestantIds: form.getAll("contestantIds").map(String),
      categoryIds: form.getAll("categoryIds").map(String),
      template,
      lang: String(form.get("lang")),
      ...(template === "custom" ? { customTemplate: String(form.get("customTemplate")), outputKind: String(form.get("outputKind")) } : {}),
    };
    setBusy(true); setMessage(null);
    const result = await callApi<{ runId: string; warnings: string[] }>("/api/admin/judge-runs", { method: "POST", body });
    setBusy(false);
    setMessage(result.ok ? (result.data.warnings.join(" ") || null) : result.error.message);
    await refresh();
  }

  return (
    <div>
      <form className="card admin-form" onSubmit={start} data-testid="judge-form">
        <label>
          评审模型 Judge model
          <select name="judgeModelId">{models.map((m) => <option key={m.id} value={m.id}>{m.label}</option>)}</select>
        </label>
        <fieldset>
          <legend>参赛模型 Contestants (≥ 2)</legend>
          {models.map((m) => (
            <label key={m.id} style={{ flexDirection: "row", gap: "0.4rem", alignItems: "center" }}>
              <input type="checkbox" name="contestantIds" value={m.id} /> {m.label}
            </label>
          ))}
        </fieldset>
        <fieldset>
          <legend>类别 Categories (none = all)</legend>
          {categories.map((c) => (
            <label key={c.id} style={{ flexDirection: "row", gap: "0.4rem", alignItems: "center" }}>
              <input type="checkbox" name="categoryIds" value={c.id} /> {c.label}
            </label>
          ))}
        </fieldset>
        <label>
          模板 Template
          <select value={template} onChange={(e) => setTemplate(e.target.value as typeof template)}>
            <option value="pairwise">pairwise: A / B / tie</option>
            <option value="score10">score10: 0–10 each</option>
            <option value="custom">custom</option>
          </select>
        </label>
        <label>
          语言 Language
          <select name="lang" defaultValue="zh"><option value="zh">中文</option><option value="en">English</option></select>
        </label>
        {template === "custom" && (
          <>
            <label>
              自定义模板 Custom template ({"{question}"}, {"{answer_a}"}, {"{answer_b}"}, {"{turns}"})
              <textarea name="customTemplate" rows={8} />
            </label>
            <label>
              输出格式 Output
              <select name="outputKind"><option value="pairwise">[[A]] / [[B]] / [[C]]</option><option value="score10">[[a, b]]</option></select>
            </label>
          </>
        )}
        <div className="admin-row">
          <button type="submit" disabled={busy}>开始 Start</button>
          <button type="button" className="btn-quiet" onClick={refresh}>刷新 Refresh</button>
          {message && <span className="error" role="alert">{message}</span>}
        </div>
      </form>
      <div className="admin-scroll">
        <table className="admin-table" data-testid="judge-runs">
          <thead><tr><th>#</th><th>评审 Judge</th><th>参赛 Contestants</th><th>模板 Template</th><th>进度 Progress</th><th>状态 Status</th><th></th></tr></thead>
          <tbody>
            {runs.map((r) => <RunRow key={r.id} run={r} onChange={refresh} />)}
            {runs.length === 0 && <tr><td colSpan={7} className="muted">还没有评审任务。No runs yet.</td></tr>}
          </tbody>
        </table>
      </div>
    </div>
  );
}

"use client";

import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";
import { callApi } from "./api";

type Vote = { id: string; createdAt: string; winner: string; voterKey: string; ipHash: string; valid: boolean; invalidReason: string | null; rated: boolean; modelA: string; modelB: string };
type Filter = Record<string, string>;

/** The vote table with per-row selection, plus "apply to everything this filter matches". */
export function VoteModeration({ votes, filter, total }: { votes: Vote[]; filter: Filter; total: number }) {
  const router = useRouter();
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [reason, setReason] = useState("");
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const narrowed = Boolean(filter.voterKey || filter.ipHash || filter.model || filter.from || filter.to);

  async function moderate(action: "invalidate" | "restore", scope: "selected" | "filter") {
    if (scope === "filter" && !window.confirm(`${action} every matching vote (${total})?`)) return;
    const body = scope === "selected" ? { action, reason, ids: [...selected] } : { action, reason, filter };
    const result = await callApi<{ count: number }>("/api/admin/votes/moderate", { method: "POST", body });
    if (!result.ok) { setMessage({ ok: false, text: result.error.message }); return; }
    setMessage({ ok: true, text: `${result.data.count} votes ${action === "invalidate" ? "invalidated" : "restored"}. Recompute ratings to apply.` });
    setSelected(new Set());
    router.refresh();
  }
  const toggle = (id: string) => setSelected((s) => { const n = new Set(s); if (n.has(id)) n.delete(id); else n.add(id); return n; });

  return (
    <div>
      <div className="card admin-row" data-testid="vote-actions">
        <input value={reason} onChange={(e) => setReason(e.target.value)} placeholder="理由 Reason (required to invalidate)" style={{ flex: "1 1 16rem" }} data-testid="vote-reason" aria-label="Reason" />
        <button type="button" disabled={!selected.size} onClick={() => moderate("invalidate", "selected")} data-testid="vote-invalidate-selected">作废所选 Invalidate selected ({selected.size})</button>
        <button type="button" className="btn-quiet" disabled={!selected.size} onClick={() => moderate("restore", "selected")} data-testid="vote-restore-selected">恢复所选 Restore selected</button>
        <button type="button" disabled={!narrowed} onClick={() => moderate("invalidate", "filter")} data-testid="vote-invalidate-filter" title={narrowed ? undefined : "Filter by voter, IP, model or time first"}>作废全部匹配 Invalidate all matching ({total})</button>
        <button type="button" className="btn-quiet" disabled={!narrowed} onClick={() => moderate("restore", "filter")} data-testid="vote-restore-filter">恢复全部匹配 Restore all matching</button>
      </div>
      {message && <p className={`notice ${message.ok ? "ok" : "bad"}`} role="status" data-testid="vote-message">{message.text}</p>}
      <div className="admin-scroll">
        <table className="admin-table" data-testid="vote-list">
          <thead><tr><th></th><th>时间 Time</th><th>A</th><th>B</th><th>结果 Winner</th><th>投票人 Voter</th><th>IP hash</th><th>有效 Valid</th></tr></thead>
          <tbody>
            {votes.map((v) => (
              <tr key={v.id} data-testid="vote-row" data-valid={v.valid}>
                <td><input type="checkbox" checked={selected.has(v.id)} onChange={() => toggle(v.id)} aria-label="select vote" data-testid="vote-select" /></td>
                <td className="small">{new Date(v.createdAt).toLocaleString()}</td>
                <td>{v.modelA}</td><td>{v.modelB}</td>
                <td>{v.winner}{!v.rated && <span className="muted small"> (unrated)</span>}</td>
                <td className="mono"><a href={`?voterKey=${encodeURIComponent(v.voterKey)}`}>{v.voterKey}</a></td>
                <td className="mono"><a href={`?ipHash=${encodeURIComponent(v.ipHash)}`}>{v.ipHash.slice(0, 12)}</a></td>
                <td>{v.valid ? <span className="badge ok">valid</span> : <span className="badge bad" title={v.invalidReason ?? ""}>invalid</span>}{v.invalidReason && <div className="small muted">{v.invalidReason}</div>}</td>
              </tr>
            ))}
            {votes.length === 0 && <tr><td colSpan={8} className="muted">没有匹配的投票。No matching votes.</td></tr>}
          </tbody>
        </table>
      </div>
    </div>
  );
}

type RatingsStatus = { jobState: string | null; latest: { version: number; createdAt: string; voteCount: number } | null };

/** Enqueues the ratings job and polls until it finishes. */
export function RecomputeRatings({ initial }: { initial: RatingsStatus }) {
  const [status, setStatus] = useState<RatingsStatus>(initial);
  const [jobId, setJobId] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const running = jobId !== null && !["completed", "failed", "unknown"].includes(status.jobState ?? "");
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(async () => {
      const result = await callApi<RatingsStatus>(`/api/admin/ratings?jobId=${encodeURIComponent(jobId!)}`);
      if (result.ok) setStatus(result.data);
    }, 1000);
    return () => clearInterval(timer);
  }, [running, jobId]);
  async function start() {
    setError(null);
    const result = await callApi<{ jobId: string }>("/api/admin/ratings", { method: "POST", body: {} });
    if (!result.ok) { setError(result.error.message); return; }
    setStatus((s) => ({ ...s, jobState: "waiting" }));
    setJobId(result.data.jobId);
  }
  return (
    <div className="admin-row" data-testid="ratings">
      <button type="button" onClick={start} disabled={running} data-testid="ratings-recompute">{running ? "计算中… Recomputing…" : "重新计算评分 Recompute ratings"}</button>
      <span className="small muted" data-testid="ratings-status" data-state={status.jobState ?? ""}>
        {status.jobState && `job: ${status.jobState} · `}
        {status.latest ? `latest run v${status.latest.version}, ${status.latest.voteCount} votes, ${new Date(status.latest.createdAt).toLocaleString()}` : "no rating run yet"}
      </span>
      {error && <span className="error small">{error}</span>}
    </div>
  );
}

"use client";

import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";
import { fill, htmlLang } from "@/lib/i18n/lang";
import { moderationFormSchema } from "@/lib/schemas/votes";
import { apiErrorText, callApi, type ApiTexts } from "./api";
import { useAdminTexts } from "./admin-texts";
import { FieldError, FormError } from "./field-error";
import { useAdminForm } from "./use-admin-form";

type Vote = { id: string; createdAt: string; winner: string; voterKey: string; ipHash: string; valid: boolean; invalidReason: string | null; rated: boolean; modelA: string; modelB: string };
type Filter = Record<string, string>;

export type VoteModerationTexts = Readonly<Record<
  | "reason" | "invalidateSelected" | "restoreSelected" | "invalidateMatching" | "restoreMatching" | "narrowFirst" | "confirmInvalidate" | "confirmRestore"
  | "invalidated" | "restored" | "colTime" | "colWinner" | "colVoter" | "ipHash" | "colValid" | "selectVote" | "unrated" | "badgeValid" | "badgeInvalid"
  | "noVotes" | "winnerA" | "winnerB" | "winnerTie" | "winnerBothBad",
  string
>>;

const WINNERS: Record<string, keyof VoteModerationTexts> = { A: "winnerA", B: "winnerB", tie: "winnerTie", both_bad: "winnerBothBad" };

/** The vote table with per-row selection, plus "apply to everything this filter matches". */
export function VoteModeration({ votes, filter, total, said }: { votes: Vote[]; filter: Filter; total: number; said: VoteModerationTexts }) {
  const router = useRouter();
  const { lang } = useAdminTexts();
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [done, setDone] = useState<string | null>(null);
  const { register, handleSubmit, setValue, send, formState: { errors, isSubmitting } } = useAdminForm(moderationFormSchema, { action: "invalidate", reason: "" });
  const narrowed = Boolean(filter.voterKey || filter.ipHash || filter.model || filter.from || filter.to);

  /** The reason is checked for this action first (invalidating needs one); then the server does it. */
  function moderate(action: "invalidate" | "restore", scope: "selected" | "filter") {
    setValue("action", action);
    setDone(null);
    return handleSubmit(async ({ reason }) => {
      if (scope === "filter" && !window.confirm(fill(action === "invalidate" ? said.confirmInvalidate : said.confirmRestore, { n: total }))) return;
      const body = scope === "selected" ? { action, reason, ids: [...selected] } : { action, reason, filter };
      const result = await send<{ count: number }>("/api/admin/votes/moderate", { method: "POST", body });
      if (!result.ok) return;
      setDone(fill(action === "invalidate" ? said.invalidated : said.restored, { n: result.data.count }));
      setSelected(new Set());
      router.refresh();
    })();
  }
  const toggle = (id: string) => setSelected((s) => { const n = new Set(s); if (n.has(id)) n.delete(id); else n.add(id); return n; });

  return (
    <div>
      <form className="card admin-row" onSubmit={(e) => e.preventDefault()} noValidate data-testid="vote-actions">
        <span className="field" style={{ flex: "1 1 16rem" }}>
          <input {...register("reason")} placeholder={said.reason} aria-label={said.reason} aria-invalid={!!errors.reason} aria-describedby={errors.reason ? "reason-error" : undefined} style={{ width: "100%" }} data-testid="vote-reason" />
          <FieldError errors={errors} name="reason" />
        </span>
        <button type="button" disabled={!selected.size || isSubmitting} onClick={() => moderate("invalidate", "selected")} data-testid="vote-invalidate-selected">{fill(said.invalidateSelected, { n: selected.size })}</button>
        <button type="button" className="btn-quiet" disabled={!selected.size || isSubmitting} onClick={() => moderate("restore", "selected")} data-testid="vote-restore-selected">{said.restoreSelected}</button>
        <button type="button" disabled={!narrowed || isSubmitting} onClick={() => moderate("invalidate", "filter")} data-testid="vote-invalidate-filter" title={narrowed ? undefined : said.narrowFirst}>{fill(said.invalidateMatching, { n: total })}</button>
        <button type="button" className="btn-quiet" disabled={!narrowed || isSubmitting} onClick={() => moderate("restore", "filter")} data-testid="vote-restore-filter">{said.restoreMatching}</button>
        <FormError errors={errors} />
      </form>
      {done && <p className="notice ok" role="status" data-testid="vote-message">{done}</p>}
      <div className="admin-scroll">
        <table className="admin-table" data-testid="vote-list">
          <thead><tr><th></th><th>{said.colTime}</th><th>A</th><th>B</th><th>{said.colWinner}</th><th>{said.colVoter}</th><th>{said.ipHash}</th><th>{said.colValid}</th></tr></thead>
          <tbody>
            {votes.map((v) => {
              const winner = WINNERS[v.winner];
              return (
                <tr key={v.id} data-testid="vote-row" data-valid={v.valid}>
                  <td><input type="checkbox" checked={selected.has(v.id)} onChange={() => toggle(v.id)} aria-label={said.selectVote} data-testid="vote-select" /></td>
                  <td className="small">{new Date(v.createdAt).toLocaleString(htmlLang(lang))}</td>
                  <td data-stored>{v.modelA}</td><td data-stored>{v.modelB}</td>
                  <td>{winner ? said[winner] : v.winner}{!v.rated && <span className="muted small">{said.unrated}</span>}</td>
                  <td className="mono" data-stored><a href={`?voterKey=${encodeURIComponent(v.voterKey)}`}>{v.voterKey}</a></td>
                  <td className="mono" data-stored><a href={`?ipHash=${encodeURIComponent(v.ipHash)}`}>{v.ipHash.slice(0, 12)}</a></td>
                  <td>
                    {v.valid ? <span className="badge ok">{said.badgeValid}</span> : <span className="badge bad">{said.badgeInvalid}</span>}
                    {v.invalidReason && <div className="small muted" data-stored>{v.invalidReason}</div>}
                  </td>
                </tr>
              );
            })}
            {votes.length === 0 && <tr><td colSpan={8} className="muted">{said.noVotes}</td></tr>}
          </tbody>
        </table>
      </div>
    </div>
  );
}

type RatingsStatus = { jobState: string | null; latest: { version: number; createdAt: string; voteCount: number } | null };

export type RecomputeTexts = Readonly<Record<
  "recompute" | "recomputing" | "job" | "latestRun" | "noRatingRun" | "jobWaiting" | "jobActive" | "jobCompleted" | "jobFailed" | "jobDelayed" | "jobUnknown",
  string
>>;

const JOB_STATES: Record<string, keyof RecomputeTexts> = { waiting: "jobWaiting", active: "jobActive", completed: "jobCompleted", failed: "jobFailed", delayed: "jobDelayed", unknown: "jobUnknown" };

/** Enqueues the ratings job and polls until it finishes. */
export function RecomputeRatings({ initial, said }: { initial: RatingsStatus; said: RecomputeTexts }) {
  const { lang, formErrors } = useAdminTexts();
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
    if (!result.ok) { setError(apiErrorText(result.error, formErrors as ApiTexts)); return; }
    setStatus((s) => ({ ...s, jobState: "waiting" }));
    setJobId(result.data.jobId);
  }
  const state = status.jobState && JOB_STATES[status.jobState];
  return (
    <div className="admin-row" data-testid="ratings">
      <button type="button" onClick={start} disabled={running} data-testid="ratings-recompute">{running ? said.recomputing : said.recompute}</button>
      <span className="small muted" data-testid="ratings-status" data-state={status.jobState ?? ""}>
        {status.jobState && `${fill(said.job, { state: state ? said[state] : status.jobState })} · `}
        {status.latest ? fill(said.latestRun, { version: status.latest.version, votes: status.latest.voteCount, time: new Date(status.latest.createdAt).toLocaleString(htmlLang(lang)) }) : said.noRatingRun}
      </span>
      {error && <span className="error small">{error}</span>}
    </div>
  );
}

"use client";

import { fill, htmlLang } from "@/lib/i18n/lang";
import { useAdminTexts } from "./admin-texts";
import { startPregenSchema } from "@/lib/schemas/pregen";
import { FieldError, FormError } from "./field-error";
import { RunActions } from "./run-parts";
import { runCounts, RunStatus, type RunTexts } from "./run-status";
import { useAdminForm } from "./use-admin-form";
import { usePolledList } from "./use-polled-list";

type Progress = { status: string; total: number; done: number; failed: number; cancelled: number; running: number; queued: number; tokensPerSecond: number; etaSeconds: number | null };
type Run = { id: string; modelId: string; model: string; scope: string; createdAt: string; progress: Progress };
type Option = { id: string; label: string };

export type PregenTexts = Readonly<Record<
  | "models" | "noActiveModels" | "scope" | "scopeAll" | "scopeCategory" | "scopeMissing" | "category" | "start"
  | "colModel" | "colProgress" | "colSpeed" | "colStatus" | "speed" | "eta" | "seconds" | "minutes" | "hours"
  | "scopeNameAll" | "scopeNameCategory" | "scopeNameMissing" | "scopeNameIds" | "noRuns",
  string
>>;

function eta(s: number | null, said: PregenTexts & RunTexts): string {
  if (s === null) return said.none;
  if (s < 60) return fill(said.seconds, { s });
  if (s < 3600) return fill(said.minutes, { m: Math.floor(s / 60), s: s % 60 });
  return fill(said.hours, { h: Math.floor(s / 3600), m: Math.floor((s % 3600) / 60) });
}

const SCOPE_NAMES: Record<string, keyof PregenTexts> = { all: "scopeNameAll", category: "scopeNameCategory", missing: "scopeNameMissing", ids: "scopeNameIds" };

function RunRow({ run, said, onChange }: { run: Run; said: PregenTexts & RunTexts; onChange: () => void }) {
  const { lang } = useAdminTexts();
  const p = run.progress;
  const finished = p.done + p.failed + p.cancelled;
  const pct = p.total ? Math.floor((finished / p.total) * 100) : p.status === "running" ? 0 : 100;
  const scope = SCOPE_NAMES[run.scope];
  return (
    <tr data-testid="pregen-run" data-model={run.modelId} data-status={p.status}>
      <td><span data-stored>{run.model}</span><div className="small muted">{scope ? said[scope] : run.scope} · {new Date(run.createdAt).toLocaleString(htmlLang(lang))}</div></td>
      <td style={{ minWidth: 180 }}>
        <div className="progress" role="progressbar" aria-valuenow={pct} aria-valuemin={0} aria-valuemax={100} data-testid="pregen-progress" data-pct={pct}>
          <div className="done" style={{ width: `${p.total ? (p.done / p.total) * 100 : 0}%` }} />
          <div className="failed" style={{ width: `${p.total ? (p.failed / p.total) * 100 : 0}%` }} />
        </div>
        <div className="small" data-testid="pregen-counts"><span data-testid="pregen-pct">{pct}%</span> · {runCounts(p, said)}</div>
      </td>
      <td className="small">{fill(said.speed, { tps: p.tokensPerSecond.toFixed(1) })}<br />{fill(said.eta, { eta: eta(p.etaSeconds, said) })}</td>
      <td><RunStatus status={p.status} said={said} testId="pregen-status" /></td>
      <td><RunActions url={`/api/admin/pregen/${run.id}`} progress={p} said={said} onChange={onChange} testIdPrefix="pregen" /></td>
    </tr>
  );
}

/** Start form and the live list of runs, polled every second while any run is going. */
export function PregenPanel({ models, categories, initialRuns, said }: { models: Option[]; categories: Option[]; initialRuns: Run[]; said: PregenTexts & RunTexts }) {
  const { runs, refresh } = usePolledList<Run>("/api/admin/pregen", initialRuns, 1000);
  const { register, handleSubmit, watch, send, formState: { errors, isSubmitting } } =
    useAdminForm(startPregenSchema, { modelIds: [], scope: "all", categoryId: categories[0]?.id ?? "" });
  const scope = watch("scope");

  const start = handleSubmit(async (input) => {
    await send("/api/admin/pregen", { method: "POST", body: input });
    await refresh();
  });

  return (
    <div>
      <form className="card admin-form" onSubmit={start} noValidate data-testid="pregen-form">
        <fieldset aria-describedby={errors.modelIds ? "modelIds-error" : undefined}>
          <legend>{said.models}</legend>
          {models.map((m) => (
            <label key={m.id} style={{ flexDirection: "row", gap: "0.4rem", alignItems: "center" }}>
              <input type="checkbox" value={m.id} {...register("modelIds")} data-testid={`pregen-model-${m.id}`} /> <span data-stored>{m.label}</span>
            </label>
          ))}
          {models.length === 0 && <span className="muted">{said.noActiveModels}</span>}
          <FieldError errors={errors} name="modelIds" />
        </fieldset>
        <label>
          {said.scope}
          <select {...register("scope")} data-testid="pregen-scope">
            <option value="all">{said.scopeAll}</option>
            <option value="category">{said.scopeCategory}</option>
            <option value="missing">{said.scopeMissing}</option>
          </select>
        </label>
        {scope === "category" && (
          <label>
            {said.category}
            <select {...register("categoryId")} aria-invalid={!!errors.categoryId} aria-describedby={errors.categoryId ? "categoryId-error" : undefined} data-testid="pregen-category">
              {categories.map((c) => <option key={c.id} value={c.id}>{c.label}</option>)}
            </select>
            <FieldError errors={errors} name="categoryId" />
          </label>
        )}
        <div className="admin-row">
          <button type="submit" disabled={isSubmitting} data-testid="pregen-start">{said.start}</button>
          <FormError errors={errors} />
        </div>
      </form>
      <div className="admin-scroll">
        <table className="admin-table" data-testid="pregen-runs">
          <thead><tr><th>{said.colModel}</th><th>{said.colProgress}</th><th>{said.colSpeed}</th><th>{said.colStatus}</th><th></th></tr></thead>
          <tbody>
            {runs.map((r) => <RunRow key={r.id} run={r} said={said} onChange={refresh} />)}
            {runs.length === 0 && <tr><td colSpan={5} className="muted">{said.noRuns}</td></tr>}
          </tbody>
        </table>
      </div>
    </div>
  );
}

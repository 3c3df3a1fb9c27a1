"use client";

import Link from "next/link";
import { useState } from "react";
import { fill } from "@/lib/i18n/lang";
import { startJudgeRunSchema } from "@/lib/schemas/judge";
import { FieldError, FormError } from "./field-error";
import { RunActions } from "./run-parts";
import { runCounts, RunStatus, type RunTexts } from "./run-status";
import { useAdminForm } from "./use-admin-form";
import { usePolledList } from "./use-polled-list";

type Progress = { status: string; total: number; done: number; failed: number; cancelled: number; running: number; queued: number; unparseable: number };
type Run = { id: string; version: number; judge: string; contestants: { id: string; name: string }[]; template: string; createdAt: string; progress: Progress };
type Option = { id: string; label: string };
type Warning = { key: "selfJudge"; values: Record<string, string> };

export type JudgeTexts = Readonly<Record<
  | "judgeModel" | "contestants" | "categories" | "template" | "templatePairwise" | "templateScore10" | "templateCustom"
  | "lang" | "langZh" | "langEn" | "customTemplate" | "outputKind" | "outputPairwise" | "outputScore10" | "start" | "refresh"
  | "colJudge" | "colContestants" | "colTemplate" | "colProgress" | "colStatus" | "noRuns" | "selfJudge",
  string
>>;

const TEMPLATE_NAMES = { pairwise: "templatePairwise", score10: "templateScore10", custom: "templateCustom" } as const;

function RunRow({ run, said, onChange }: { run: Run; said: JudgeTexts & RunTexts; onChange: () => void }) {
  const p = run.progress;
  const template = TEMPLATE_NAMES[run.template as keyof typeof TEMPLATE_NAMES];
  return (
    <tr data-testid="judge-run" data-status={p.status}>
      <td><Link href={`/admin/judge/${run.id}`}>#{run.version}</Link></td>
      <td data-stored>{run.judge}</td>
      <td className="small" data-stored>{run.contestants.map((c) => c.name).join(" · ")}</td>
      <td>{template ? said[template] : run.template}</td>
      <td className="small">{runCounts(p, said)}</td>
      <td><RunStatus status={p.status} said={said} /></td>
      <td><RunActions url={`/api/admin/judge-runs/${run.id}`} progress={p} said={said} onChange={onChange} /></td>
    </tr>
  );
}

/** Start form and the list of judge runs, polled every 2 s while any run is going. */
export function JudgePanel({ models, categories, initialRuns, said }: { models: Option[]; categories: Option[]; initialRuns: Run[]; said: JudgeTexts & RunTexts }) {
  const { runs, refresh } = usePolledList<Run>("/api/admin/judge-runs", initialRuns, 2000);
  const [warnings, setWarnings] = useState<Warning[]>([]);
  const { register, handleSubmit, watch, send, formState: { errors, isSubmitting } } = useAdminForm(startJudgeRunSchema, {
    judgeModelId: models[0]?.id ?? "", contestantIds: [], categoryIds: [], template: "pairwise", lang: "zh", customTemplate: "", outputKind: "pairwise",
  });
  const template = watch("template");
  const described = (field: keyof typeof errors) => (errors[field] ? `${field}-error` : undefined);

  const start = handleSubmit(async (input) => {
    setWarnings([]);
    const body = input.template === "custom" ? input : { ...input, customTemplate: undefined, outputKind: undefined };
    const result = await send<{ runId: string; warnings: Warning[] }>("/api/admin/judge-runs", { method: "POST", body });
    if (result.ok) setWarnings(result.data.warnings);
    await refresh();
  });

  return (
    <div>
      <form className="card admin-form" onSubmit={start} noValidate data-testid="judge-form">
        <label>
          {said.judgeModel}
          <select {...register("judgeModelId")} aria-invalid={!!errors.judgeModelId} aria-describedby={described("judgeModelId")}>
            {models.map((m) => <option key={m.id} value={m.id} data-stored>{m.label}</option>)}
          </select>
          <FieldError errors={errors} name="judgeModelId" />
        </label>
        <fieldset aria-describedby={described("contestantIds")}>
          <legend>{said.contestants}</legend>
          {models.map((m) => (
            <label key={m.id} style={{ flexDirection: "row", gap: "0.4rem", alignItems: "center" }}>
              <input type="checkbox" value={m.id} {...register("contestantIds")} /> <span data-stored>{m.label}</span>
            </label>
          ))}
          <FieldError errors={errors} name="contestantIds" />
        </fieldset>
        <fieldset aria-describedby={described("categoryIds")}>
          <legend>{said.categories}</legend>
          {categories.map((c) => (
            <label key={c.id} style={{ flexDirection: "row", gap: "0.4rem", alignItems: "center" }}>
              <input type="checkbox" value={c.id} {...register("categoryIds")} /> {c.label}
            </label>
          ))}
          <FieldError errors={errors} name="categoryIds" />
        </fieldset>
        <label>
          {said.template}
          <select {...register("template")}>
            <option value="pairwise">{said.templatePairwise}</option>
            <option value="score10">{said.templateScore10}</option>
            <option value="custom">{said.templateCustom}</option>
          </select>
        </label>
        <label>
          {said.lang}
          <select {...register("lang")}><option value="zh">{said.langZh}</option><option value="en">{said.langEn}</option></select>
        </label>
        {template === "custom" && (
          <>
            <label>
              {said.customTemplate}
              <textarea {...register("customTemplate")} rows={8} aria-invalid={!!errors.customTemplate} aria-describedby={described("customTemplate")} />
              <FieldError errors={errors} name="customTemplate" />
            </label>
            <label>
              {said.outputKind}
              <select {...register("outputKind")}><option value="pairwise">{said.outputPairwise}</option><option value="score10">{said.outputScore10}</option></select>
            </label>
          </>
        )}
        <div className="admin-row">
          <button type="submit" disabled={isSubmitting}>{said.start}</button>
          <button type="button" className="btn-quiet" onClick={refresh}>{said.refresh}</button>
          <FormError errors={errors} />
          {warnings.map((w) => <span key={w.key} className="notice bad" role="status" data-testid="judge-warning">{fill(said[w.key], w.values)}</span>)}
        </div>
      </form>
      <div className="admin-scroll">
        <table className="admin-table" data-testid="judge-runs">
          <thead><tr><th>#</th><th>{said.colJudge}</th><th>{said.colContestants}</th><th>{said.colTemplate}</th><th>{said.colProgress}</th><th>{said.colStatus}</th><th></th></tr></thead>
          <tbody>
            {runs.map((r) => <RunRow key={r.id} run={r} said={said} onChange={refresh} />)}
            {runs.length === 0 && <tr><td colSpan={7} className="muted">{said.noRuns}</td></tr>}
          </tbody>
        </table>
      </div>
    </div>
  );
}

"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import type { Catalogue } from "@/lib/i18n";
import { fill } from "@/lib/i18n/lang";
import { answerImportFormSchema } from "@/lib/schemas/answer-import";
import { callApi } from "./api";
import { FormError } from "./field-error";
import { Field, invalidProps } from "./form-field";
import { ImportIssues, type ImportIssue } from "./import-issues";
import { useAdminForm } from "./use-admin-form";

type Report = {
  format: string; dryRun: boolean; rows: number; matched: number; newQuestions: number; unmatchedCount: number; duplicateCount: number;
  errorCount: number; errors: ImportIssue[]; toWrite: number; written: number; answerSet: { id: string; version: number } | null; ms: number;
};

const MAX_MB = 20;

/** An offline model's answer set: pick a file → dry run (nothing written) → commit, all or nothing. */
export function AnswerImport({ modelId, said, issues }: { modelId: string; said: Catalogue["adminAnswerImport"]; issues: Readonly<Record<string, string>> }) {
  const router = useRouter();
  const [file, setFile] = useState<File | null>(null);
  const [report, setReport] = useState<Report | null>(null);
  const { register, handleSubmit, setError, clearErrors, formState: { errors, isSubmitting } } = useAdminForm(answerImportFormSchema, { source: "", createQuestions: false });

  const format = file && /\.csv$/i.test(file.name) ? "csv" : "jsonl";

  const send = (dryRun: boolean) => handleSubmit(async ({ source, createQuestions }) => {
    if (!file) return;
    if (file.size > MAX_MB * 1024 * 1024) { setError("root.server", { message: fill(said.fileTooLarge, { mb: MAX_MB }) }); return; }
    const query = new URLSearchParams({ format, dryRun: dryRun ? "1" : "0", createQuestions: createQuestions ? "1" : "0" });
    if (source) query.set("source", source);
    const result = await callApi<{ report: Report }>(`/api/admin/models/${modelId}/answers?${query}`, { method: "POST", raw: file });
    if (result.ok) {
      setReport(result.data.report);
      if (!dryRun) router.refresh();
      return;
    }
    const failed = result.data as { report?: Report } | null;
    if (failed?.report) setReport(failed.report);
    // The source's refusal goes beside it: the schema's message, or its text that cannot be stored.
    if (result.error.field?.split(".")[0] === "source") setError("source", { type: "server", message: result.error.fields?.source ?? result.error.message });
    else if (!failed?.report) setError("root.server", { type: "server", message: result.error.message });
  });
  const fresh = () => { setReport(null); clearErrors(); };

  const canCommit = report?.dryRun && report.errorCount === 0 && report.toWrite > 0;
  return (
    <form className="card" onSubmit={(e) => e.preventDefault()} noValidate data-testid="answers-import">
      <div className="admin-row">
        <input type="file" accept=".csv,.jsonl,.ndjson,text/csv,application/x-ndjson" data-testid="answers-file"
          onChange={(e) => { setFile(e.target.files?.[0] ?? null); fresh(); }} />
        <label style={{ flexDirection: "row", gap: "0.4rem" }}>
          <input type="checkbox" {...register("createQuestions", { onChange: fresh })} data-testid="answers-create-questions" />
          {said.addUnknown}
        </label>
      </div>
      <Field label={said.source} name="source" errors={errors}>
        <input {...register("source")} {...invalidProps(errors, "source")} placeholder='{"engine":"llama.cpp","quantisation":"q4_0","temperature":0.2}' data-testid="answers-source" />
      </Field>
      <div className="admin-row">
        <button type="button" disabled={!file || isSubmitting} onClick={send(true)} data-testid="answers-dry-run">{said.dryRun}</button>
        <button type="button" disabled={!canCommit || isSubmitting} onClick={send(false)} data-testid="answers-commit">{canCommit ? fill(said.commitCount, { n: report!.toWrite }) : said.commit}</button>
        {isSubmitting && <span className="muted">{said.working}</span>}
      </div>
      {file && <p className="small muted">{file.name} · {format.toUpperCase()} · {(file.size / 1024).toFixed(1)} KB</p>}
      <FormError errors={errors} />
      {report && (
        <div data-testid="answers-report">
          <p className={`notice ${report.errorCount ? "bad" : "ok"}`} data-testid="answers-summary">
            {report.dryRun ? said.dryRunLabel : said.importLabel}
            {fill(said.rows, { n: report.rows })} · {fill(said.matched, { n: report.matched })} · {fill(said.newQuestions, { n: report.newQuestions })} ·{" "}
            {fill(said.unmatched, { n: report.unmatchedCount })} · {fill(said.duplicates, { n: report.duplicateCount })} ·{" "}
            <span data-testid="answers-error-count">{report.errorCount}</span> {said.errors} ·{" "}
            {report.dryRun ? fill(said.wouldWrite, { n: report.toWrite }) : <span data-testid="answers-written">{fill(said.written, { n: report.written, version: report.answerSet?.version ?? "" })}</span>}
            {" · "}{fill(said.ms, { n: report.ms })}
          </p>
          <ImportIssues issues={report.errors} errorCount={report.errorCount} said={said} texts={issues} testId="answers-errors" />
        </div>
      )}
    </form>
  );
}

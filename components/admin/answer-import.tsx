"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { callApi } from "./api";

type Issue = { line: number; field: string; message: string };
type Report = {
  format: string; dryRun: boolean; rows: number; matched: number; newQuestions: number; unmatchedCount: number; duplicateCount: number;
  errorCount: number; errors: Issue[]; toWrite: number; written: number; answerSet: { id: string; version: number } | null; ms: number;
};

const MAX_MB = 20;

/** An offline model's answer set: pick a file → dry run (nothing written) → commit, all or nothing. */
export function AnswerImport({ modelId }: { modelId: string }) {
  const router = useRouter();
  const [file, setFile] = useState<File | null>(null);
  const [source, setSource] = useState("");
  const [createQuestions, setCreateQuestions] = useState(false);
  const [report, setReport] = useState<Report | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const format = file && /\.csv$/i.test(file.name) ? "csv" : "jsonl";

  async function send(dryRun: boolean) {
    if (!file) return;
    if (file.size > MAX_MB * 1024 * 1024) { setError(`The file is larger than ${MAX_MB} MB; split it into smaller files.`); return; }
    setBusy(true); setError(null);
    const query = new URLSearchParams({ format, dryRun: dryRun ? "1" : "0", createQuestions: createQuestions ? "1" : "0" });
    if (source.trim()) query.set("source", source.trim());
    const result = await callApi<{ report: Report }>(`/api/admin/models/${modelId}/answers?${query}`, { method: "POST", raw: file });
    setBusy(false);
    if (result.ok) {
      setReport(result.data.report);
      if (!dryRun) router.refresh();
      return;
    }
    const failed = result.data as { report?: Report } | null;
    if (failed?.report) setReport(failed.report);
    setError(result.error.message);
  }

  const canCommit = report?.dryRun && report.errorCount === 0 && report.toWrite > 0;
  return (
    <div className="card" data-testid="answers-import">
      <div className="admin-row">
        <input type="file" accept=".csv,.jsonl,.ndjson,text/csv,application/x-ndjson" data-testid="answers-file"
          onChange={(e) => { setFile(e.target.files?.[0] ?? null); setReport(null); setError(null); }} />
        <label style={{ flexDirection: "row", gap: "0.4rem" }}>
          <input type="checkbox" checked={createQuestions} onChange={(e) => { setCreateQuestions(e.target.checked); setReport(null); }} data-testid="answers-create-questions" />
          新题加入题库 Add unknown questions (rows with a category)
        </label>
      </div>
      <label>
        来源 Source (JSON: engine, quantisation, temperature…)
        <input value={source} onChange={(e) => setSource(e.target.value)} placeholder='{"engine":"llama.cpp","quantisation":"q4_0","temperature":0.2}' data-testid="answers-source" />
      </label>
      <div className="admin-row">
        <button type="button" disabled={!file || busy} onClick={() => send(true)} data-testid="answers-dry-run">试运行 Dry run</button>
        <button type="button" disabled={!canCommit || busy} onClick={() => send(false)} data-testid="answers-commit">导入 Commit {canCommit ? `${report!.toWrite} answers` : ""}</button>
        {busy && <span className="muted">处理中 Working…</span>}
      </div>
      {file && <p className="small muted">{file.name} · {format.toUpperCase()} · {(file.size / 1024).toFixed(1)} KB</p>}
      {error && <p className="error" role="alert" data-testid="answers-error">{error}</p>}
      {report && (
        <div data-testid="answers-report">
          <p className={`notice ${report.errorCount ? "bad" : "ok"}`} data-testid="answers-summary">
            {report.dryRun ? "试运行 Dry run: " : "导入 Import: "}
            {report.rows} rows · {report.matched} matched · {report.newQuestions} new questions · {report.unmatchedCount} unmatched ·{" "}
            {report.duplicateCount} duplicates · <span data-testid="answers-error-count">{report.errorCount}</span> errors ·{" "}
            {report.dryRun ? `${report.toWrite} would be written` : <span data-testid="answers-written">{report.written} written as version {report.answerSet?.version}</span>} · {report.ms} ms
          </p>
          {report.errors.length > 0 && (
            <div className="admin-scroll">
              <table className="admin-table" data-testid="answers-errors">
                <thead><tr><th>行 Line</th><th>字段 Field</th><th>错误 Error</th></tr></thead>
                <tbody>{report.errors.map((e, i) => <tr key={i}><td className="num">{e.line}</td><td>{e.field}</td><td>{e.message}</td></tr>)}</tbody>
              </table>
              {report.errorCount > report.errors.length && <p className="small muted">… and {report.errorCount - report.errors.length} more</p>}
            </div>
          )}
        </div>
      )}
    </div>
  );
}

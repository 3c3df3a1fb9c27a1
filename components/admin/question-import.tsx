"use client";

import Link from "next/link";
import { useState } from "react";
import { callApi } from "./api";

type Issue = { line: number; field: string; message: string };
type Duplicate = { line: number; text: string; of: "file" | "bank"; firstLine?: number };
type Report = { format: string; dryRun: boolean; rows: number; errorCount: number; errors: Issue[]; duplicateCount: number; duplicates: Duplicate[]; toWrite: number; written: number; ms: number };

const MAX_MB = 20;

/** Pick a file → dry run (nothing written) → import, which the server does all or nothing. */
export function QuestionImport() {
  const [file, setFile] = useState<File | null>(null);
  const [report, setReport] = useState<Report | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const format = file && /\.(jsonl|ndjson)$/i.test(file.name) ? "jsonl" : "csv";

  async function send(dryRun: boolean) {
    if (!file) return;
    if (file.size > MAX_MB * 1024 * 1024) { setError(`The file is larger than ${MAX_MB} MB; split it into smaller files.`); return; }
    setBusy(true); setError(null);
    const result = await callApi<{ report: Report }>(`/api/admin/questions/import?format=${format}&dryRun=${dryRun ? 1 : 0}`, { method: "POST", raw: file });
    setBusy(false);
    if (result.ok) { setReport(result.data.report); return; }
    const failed = result.data as { report?: Report } | null;
    if (failed?.report) setReport(failed.report);
    setError(result.error.message);
  }

  const canImport = report?.dryRun && report.errorCount === 0 && report.toWrite > 0;
  return (
    <div className="card" data-testid="import">
      <div className="admin-row">
        <input type="file" accept=".csv,.jsonl,.ndjson,text/csv,application/x-ndjson" data-testid="import-file"
          onChange={(e) => { setFile(e.target.files?.[0] ?? null); setReport(null); setError(null); }} />
        <button type="button" disabled={!file || busy} onClick={() => send(true)} data-testid="import-dry-run">试运行 Dry run</button>
        <button type="button" disabled={!canImport || busy} onClick={() => send(false)} data-testid="import-run">导入 Import {canImport ? `${report!.toWrite} rows` : ""}</button>
        {busy && <span className="muted">处理中 Working…</span>}
      </div>
      {file && <p className="small muted">{file.name} · {format.toUpperCase()} · {(file.size / 1024).toFixed(1)} KB</p>}
      {error && <p className="error" role="alert" data-testid="import-error">{error}</p>}
      {report && (
        <div data-testid="import-report">
          <p className={`notice ${report.errorCount ? "bad" : "ok"}`} data-testid="import-summary">
            {report.dryRun ? "试运行 Dry run: " : "导入 Import: "}
            {report.rows} rows · <span data-testid="import-error-count">{report.errorCount}</span> errors ·{" "}
            <span data-testid="import-duplicate-count">{report.duplicateCount}</span> duplicates (skipped) ·{" "}
            {report.dryRun ? `${report.toWrite} would be written` : <span data-testid="import-written">{report.written} written</span>} · {report.ms} ms
            {!report.dryRun && report.written > 0 && <> · <Link href="/admin/questions" data-testid="import-see-questions">查看 See questions</Link></>}
          </p>
          {report.errors.length > 0 && (
            <div className="admin-scroll">
              <table className="admin-table" data-testid="import-errors">
                <thead><tr><th>行 Line</th><th>字段 Field</th><th>错误 Error</th></tr></thead>
                <tbody>{report.errors.map((e, i) => <tr key={i} data-testid="import-error-row"><td className="num">{e.line}</td><td>{e.field}</td><td>{e.message}</td></tr>)}</tbody>
              </table>
              {report.errorCount > report.errors.length && <p className="small muted">… and {report.errorCount - report.errors.length} more</p>}
            </div>
          )}
          {report.duplicates.length > 0 && (
            <details>
              <summary>重复 Duplicates ({report.duplicateCount})</summary>
              <table className="admin-table" data-testid="import-duplicates">
                <thead><tr><th>行 Line</th><th>重复于 Duplicate of</th><th>问题 Text</th></tr></thead>
                <tbody>{report.duplicates.map((d, i) => <tr key={i}><td className="num">{d.line}</td><td>{d.of === "file" ? `line ${d.firstLine}` : "the bank"}</td><td>{d.text}</td></tr>)}</tbody>
              </table>
            </details>
          )}
        </div>
      )}
    </div>
  );
}

"use client";

import Link from "next/link";
import { useState } from "react";
import type { Catalogue } from "@/lib/i18n";
import { fill } from "@/lib/i18n/lang";
import { callApi } from "./api";
import { ImportIssues, type ImportIssue } from "./import-issues";

type Duplicate = { line: number; text: string; of: "file" | "bank"; firstLine?: number };
type Report = { format: string; dryRun: boolean; rows: number; errorCount: number; errors: ImportIssue[]; duplicateCount: number; duplicates: Duplicate[]; toWrite: number; written: number; ms: number };

/** Pick a file → dry run (nothing written) → import, which the server does all or nothing. */
export function QuestionImport({ said, issues, maxMb }: { said: Catalogue["adminQuestionImport"]; issues: Readonly<Record<string, string>>; maxMb: number }) {
  const [file, setFile] = useState<File | null>(null);
  const [report, setReport] = useState<Report | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const format = file && /\.(jsonl|ndjson)$/i.test(file.name) ? "jsonl" : "csv";

  async function send(dryRun: boolean) {
    if (!file) return;
    if (file.size > maxMb * 1024 * 1024) { setError(fill(said.fileTooLarge, { mb: maxMb })); return; }
    setBusy(true); setError(null);
    const result = await callApi<{ report: Report }>(`/api/admin/questions/import?format=${format}&dryRun=${dryRun ? 1 : 0}`, { method: "POST", raw: file });
    setBusy(false);
    if (result.ok) { setReport(result.data.report); return; }
    const failed = result.data as { report?: Report } | null;
    if (failed?.report) setReport(failed.report);
    setError(failed?.report ? fill(said.refused, { n: failed.report.errorCount }) : result.error.message);
  }

  const canImport = report?.dryRun && report.errorCount === 0 && report.toWrite > 0;
  return (
    <div className="card" data-testid="import">
      <div className="admin-row">
        <input type="file" accept=".csv,.jsonl,.ndjson,text/csv,application/x-ndjson" data-testid="import-file"
          onChange={(e) => { setFile(e.target.files?.[0] ?? null); setReport(null); setError(null); }} />
        <button type="button" disabled={!file || busy} onClick={() => send(true)} data-testid="import-dry-run">{said.dryRun}</button>
        <button type="button" disabled={!canImport || busy} onClick={() => send(false)} data-testid="import-run">{canImport ? fill(said.importCount, { n: report!.toWrite }) : said.import}</button>
        {busy && <span className="muted">{said.working}</span>}
      </div>
      {file && <p className="small muted">{file.name} · {format.toUpperCase()} · {(file.size / 1024).toFixed(1)} KB</p>}
      {error && <p className="error" role="alert" data-testid="import-error">{error}</p>}
      {report && (
        <div data-testid="import-report">
          <p className={`notice ${report.errorCount ? "bad" : "ok"}`} data-testid="import-summary">
            {report.dryRun ? said.dryRunLabel : said.importLabel}
            {fill(said.rows, { n: report.rows })} · <span data-testid="import-error-count">{report.errorCount}</span> {said.errors} ·{" "}
            <span data-testid="import-duplicate-count">{report.duplicateCount}</span> {said.duplicates} ·{" "}
            {report.dryRun ? fill(said.wouldWrite, { n: report.toWrite }) : <span data-testid="import-written">{fill(said.written, { n: report.written })}</span>}
            {" · "}{fill(said.ms, { n: report.ms })}
            {!report.dryRun && report.written > 0 && <> · <Link href="/admin/questions" data-testid="import-see-questions">{said.seeQuestions}</Link></>}
          </p>
          <ImportIssues issues={report.errors} errorCount={report.errorCount} said={said} texts={issues} testId="import-errors" rowTestId="import-error-row" />
          {report.duplicates.length > 0 && (
            <details>
              <summary>{fill(said.duplicatesHeading, { n: report.duplicateCount })}</summary>
              <table className="admin-table" data-testid="import-duplicates">
                <thead><tr><th>{said.colLine}</th><th>{said.colDuplicateOf}</th><th>{said.colText}</th></tr></thead>
                <tbody>{report.duplicates.map((d, i) => <tr key={i}><td className="num">{d.line}</td><td>{d.of === "file" ? fill(said.ofLine, { line: d.firstLine ?? "" }) : said.ofBank}</td><td>{d.text}</td></tr>)}</tbody>
              </table>
            </details>
          )}
        </div>
      )}
    </div>
  );
}

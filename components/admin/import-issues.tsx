"use client";

import { fill, knownErrorText } from "@/lib/i18n/lang";

// A dry run's errors, line by line: each row's problem in the page's language when the catalogue
// names it (its key), else as the server wrote it.

export type ImportIssue = { line: number; field: string; message: string; key?: string; values?: Record<string, string | number> };
type Said = Readonly<Record<"colLine" | "colField" | "colError" | "more", string>>;

export function ImportIssues({ issues, errorCount, said, texts, testId, rowTestId }: {
  issues: ImportIssue[]; errorCount: number; said: Said; texts: Readonly<Record<string, string>>; testId: string; rowTestId?: string;
}) {
  if (issues.length === 0) return null;
  return (
    <div className="admin-scroll">
      <table className="admin-table" data-testid={testId}>
        <thead><tr><th>{said.colLine}</th><th>{said.colField}</th><th>{said.colError}</th></tr></thead>
        <tbody>
          {issues.map((e, i) => (
            <tr key={i} data-testid={rowTestId}><td className="num">{e.line}</td><td>{e.field}</td><td>{knownErrorText(e, texts) ?? e.message}</td></tr>
          ))}
        </tbody>
      </table>
      {errorCount > issues.length && <p className="small muted">{fill(said.more, { n: errorCount - issues.length })}</p>}
    </div>
  );
}

"use client";

import { useState } from "react";
import { apiErrorText, callApi, type ApiTexts } from "./api";
import { useAdminTexts } from "./admin-texts";
import type { RunProgress, RunTexts } from "./run-status";

/** Cancel while running, retry its failed items; then the list is read again. */
export function RunActions({ url, progress, said, onChange, testIdPrefix }: { url: string; progress: RunProgress; said: RunTexts; onChange: () => void; testIdPrefix?: string }) {
  const { formErrors } = useAdminTexts();
  const [error, setError] = useState<string | null>(null);
  async function act(action: "cancel" | "retry") {
    const result = await callApi(`${url}/${action}`, { method: "POST", body: {} });
    setError(result.ok ? null : apiErrorText(result.error, formErrors as ApiTexts));
    onChange();
  }
  const testId = (name: string) => (testIdPrefix ? `${testIdPrefix}-${name}` : undefined);
  return (
    <div className="admin-row">
      {progress.status === "running" && <button type="button" className="btn-quiet" onClick={() => act("cancel")} data-testid={testId("cancel")}>{said.cancel}</button>}
      {progress.failed > 0 && <button type="button" className="btn-quiet" onClick={() => act("retry")} data-testid={testId("retry")}>{said.retryFailed}</button>}
      {error && <span className="error small" role="alert">{error}</span>}
    </div>
  );
}

"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { apiErrorText, callApi, type ApiTexts } from "./api";
import { useAdminTexts } from "./admin-texts";

/** One admin action (POST/PATCH/DELETE), optionally confirmed, then a refresh of the page's data. */
export function ActionButton({ url, method = "POST", body, label, confirm, testId, quiet = true }: {
  url: string; method?: string; body?: unknown; label: string; confirm?: string; testId?: string; quiet?: boolean;
}) {
  const router = useRouter();
  const { formErrors } = useAdminTexts();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function run() {
    if (confirm && !window.confirm(confirm)) return;
    setBusy(true);
    setError(null);
    const result = await callApi(url, { method, body: body ?? {} });
    setBusy(false);
    if (!result.ok) setError(apiErrorText(result.error, formErrors as ApiTexts));
    else router.refresh();
  }
  return (
    <span>
      <button type="button" className={quiet ? "btn-quiet" : undefined} disabled={busy} onClick={run} data-testid={testId}>{label}</button>
      {error && <span className="error small" role="alert" data-testid={testId ? `${testId}-error` : undefined}> {error}</span>}
    </span>
  );
}

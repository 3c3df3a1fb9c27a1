"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { callApi } from "@/components/admin/api";
import { accountErrorText, type AccountMessages } from "./error-text";

/** The signed-in user's new password: the current one, the new one twice. */
export function PasswordForm({ next, m }: { next: string | null; m: AccountMessages }) {
  const router = useRouter();
  const [error, setError] = useState<{ field?: string; message: string } | null>(null);
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);

  async function submit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const newPassword = String(form.get("newPassword") ?? "");
    if (newPassword !== String(form.get("repeat") ?? "")) { setError({ field: "repeat", message: m.account.passwordsDiffer }); return; }
    setBusy(true); setError(null);
    const result = await callApi("/api/account/password", { method: "POST", body: { currentPassword: String(form.get("currentPassword") ?? ""), newPassword } });
    setBusy(false);
    if (!result.ok) { setError({ field: result.error.field, message: accountErrorText(result.error, m) }); return; }
    setDone(true);
    if (next) router.push(next);
    router.refresh();
  }

  const fieldError = (name: string) => error?.field === name && <span className="error small" role="alert" data-testid={`password-error-${name}`}>{error.message}</span>;
  return (
    <form className="stack" onSubmit={submit} data-testid="password-form">
      <label>{m.account.currentPassword}<input name="currentPassword" type="password" autoComplete="current-password" required data-testid="password-current" />{fieldError("currentPassword")}</label>
      <label>{m.account.newPassword}<input name="newPassword" type="password" autoComplete="new-password" required data-testid="password-new" />{fieldError("newPassword")}</label>
      <label>{m.account.newPasswordAgain}<input name="repeat" type="password" autoComplete="new-password" required data-testid="password-repeat" />{fieldError("repeat")}</label>
      <button type="submit" disabled={busy} data-testid="password-submit">{m.account.changePassword}</button>
      {error && !error.field && <p className="error" role="alert">{error.message}</p>}
      {done && <p className="notice ok" data-testid="password-changed">{m.account.passwordChanged}</p>}
    </form>
  );
}

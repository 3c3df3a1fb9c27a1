"use client";

import { signIn } from "next-auth/react";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { callApi } from "@/components/admin/api";
import { accountErrorText, type AccountMessages } from "./error-text";

/** A voter account for anyone, while an admin keeps sign-up open; signs the new voter in. */
export function SignupForm({ m }: { m: AccountMessages }) {
  const router = useRouter();
  const [error, setError] = useState<{ field?: string; message: string } | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const email = String(form.get("email") ?? "");
    const password = String(form.get("password") ?? "");
    setBusy(true); setError(null);
    const result = await callApi("/api/signup", { method: "POST", body: { email, password } });
    if (!result.ok) { setBusy(false); setError({ field: result.error.field, message: accountErrorText(result.error, m) }); return; }
    await signIn("credentials", { email, password, redirect: false });
    setBusy(false);
    router.push("/battle");
    router.refresh();
  }

  const fieldError = (name: string) => error?.field === name && <span className="error small" role="alert" data-testid={`signup-error-${name}`}>{error.message}</span>;
  return (
    <form className="stack" onSubmit={submit} data-testid="signup-form">
      <label>{m.account.email}<input name="email" type="email" autoComplete="username" required data-testid="signup-email" />{fieldError("email")}</label>
      <label>{m.account.newAccountPassword}<input name="password" type="password" autoComplete="new-password" required data-testid="signup-password" />{fieldError("password")}</label>
      <button type="submit" disabled={busy} data-testid="signup-submit">{m.account.createAccount}</button>
      {error && !error.field && <p className="error" role="alert" data-testid="signup-error">{error.message}</p>}
    </form>
  );
}

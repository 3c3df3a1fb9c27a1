"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { callApi } from "./api";

/** Shows a temporary password once, for the admin to hand over. */
export function TemporaryPassword({ email, password }: { email: string; password: string }) {
  return (
    <p className="notice ok" data-testid="temporary-password-notice">
      {email}: 临时密码 temporary password <code data-testid="temporary-password">{password}</code> — shown once; it must be changed at the first sign-in.
    </p>
  );
}

/** New account: email and role; the API answers with a temporary password. */
export function UserCreate() {
  const router = useRouter();
  const [created, setCreated] = useState<{ email: string; password: string } | null>(null);
  const [error, setError] = useState<{ field?: string; message: string } | null>(null);
  const [busy, setBusy] = useState(false);
  async function submit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true); setError(null); setCreated(null);
    const result = await callApi<{ user: { email: string }; temporaryPassword: string }>("/api/admin/users", {
      method: "POST", body: { email: String(form.get("email") ?? ""), role: String(form.get("role") ?? "voter") },
    });
    setBusy(false);
    if (!result.ok) { setError({ field: result.error.field, message: result.error.message }); return; }
    setCreated({ email: result.data.user.email, password: result.data.temporaryPassword });
    router.refresh();
  }
  return (
    <form className="card admin-row" onSubmit={submit} data-testid="user-create">
      <label>邮箱 Email<input name="email" type="email" required data-testid="user-create-email" />
        {error?.field === "email" && <span className="error small" role="alert">{error.message}</span>}</label>
      <label>角色 Role<select name="role" data-testid="user-create-role"><option value="voter">voter</option><option value="admin">admin</option></select></label>
      <button type="submit" disabled={busy} data-testid="user-create-submit">添加用户 Add user</button>
      {error && error.field !== "email" && <span className="error" role="alert" data-testid="user-create-error">{error.message}</span>}
      {created && <TemporaryPassword email={created.email} password={created.password} />}
    </form>
  );
}

/** Replaces a user's password with a temporary one, shown once. */
export function PasswordReset({ userId, email }: { userId: string; email: string }) {
  const [password, setPassword] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  async function reset() {
    if (!window.confirm(`Reset the password of ${email}?`)) return;
    const result = await callApi<{ temporaryPassword: string }>(`/api/admin/users/${userId}/password`, { method: "POST", body: {} });
    if (result.ok) setPassword(result.data.temporaryPassword);
    else setError(result.error.message);
  }
  return (
    <span>
      <button type="button" className="btn-quiet" onClick={reset} data-testid={`user-reset-${email}`}>重置密码 Reset password</button>
      {password && <TemporaryPassword email={email} password={password} />}
      {error && <span className="error small" role="alert">{error}</span>}
    </span>
  );
}

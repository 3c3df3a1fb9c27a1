"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import type { Catalogue } from "@/lib/i18n";
import { fill } from "@/lib/i18n/lang";
import { newUserSchema } from "@/lib/schemas/user";
import { callApi } from "./api";
import { FormError } from "./field-error";
import { Field, invalidProps } from "./form-field";
import { useAdminForm } from "./use-admin-form";

type Said = Catalogue["adminUsers"];

/** Shows a temporary password once, for the admin to hand over. */
export function TemporaryPassword({ email, password, said }: { email: string; password: string; said: Said }) {
  return (
    <p className="notice ok" data-testid="temporary-password-notice">
      {fill(said.temporaryPassword, { email })} <code data-testid="temporary-password">{password}</code> — {said.temporaryPasswordNote}
    </p>
  );
}

/** New account: email and role; the API answers with a temporary password. */
export function UserCreate({ said }: { said: Said }) {
  const router = useRouter();
  const [created, setCreated] = useState<{ email: string; password: string } | null>(null);
  const { register, handleSubmit, send, formState: { errors, isSubmitting } } = useAdminForm(newUserSchema, { email: "", role: "voter" });

  const submit = handleSubmit(async (input) => {
    setCreated(null);
    const result = await send<{ user: { email: string }; temporaryPassword: string }>("/api/admin/users", { method: "POST", body: input });
    if (!result.ok) return;
    setCreated({ email: result.data.user.email, password: result.data.temporaryPassword });
    router.refresh();
  });

  return (
    <form className="card admin-row" onSubmit={submit} noValidate data-testid="user-create">
      <Field label={said.email} name="email" errors={errors}>
        <input type="email" {...register("email")} {...invalidProps(errors, "email")} data-testid="user-create-email" />
      </Field>
      <label>
        {said.role}
        <select {...register("role")} data-testid="user-create-role"><option value="voter">{said.roleVoter}</option><option value="admin">{said.roleAdmin}</option></select>
      </label>
      <button type="submit" disabled={isSubmitting} data-testid="user-create-submit">{said.add}</button>
      <FormError errors={errors} />
      {created && <TemporaryPassword email={created.email} password={created.password} said={said} />}
    </form>
  );
}

/** Replaces a user's password with a temporary one, shown once. */
export function PasswordReset({ userId, email, said }: { userId: string; email: string; said: Said }) {
  const [password, setPassword] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  async function reset() {
    if (!window.confirm(fill(said.confirmReset, { email }))) return;
    const result = await callApi<{ temporaryPassword: string }>(`/api/admin/users/${userId}/password`, { method: "POST", body: {} });
    if (result.ok) setPassword(result.data.temporaryPassword);
    else setError(result.error.message);
  }
  return (
    <span>
      <button type="button" className="btn-quiet" onClick={reset} data-testid={`user-reset-${email}`}>{said.resetPassword}</button>
      {password && <TemporaryPassword email={email} password={password} said={said} />}
      {error && <span className="error small" role="alert">{error}</span>}
    </span>
  );
}

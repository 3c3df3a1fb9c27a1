"use client";

import { signIn } from "next-auth/react";
import { useRouter } from "next/navigation";
import { useState } from "react";
import type { Catalogue } from "@/lib/i18n";

export function SignInForm({ callbackUrl, m }: { callbackUrl: string; m: Catalogue["account"] }) {
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);

  async function onSubmit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setPending(true);
    setError(null);
    const result = await signIn("credentials", {
      email: String(form.get("email") ?? ""),
      password: String(form.get("password") ?? ""),
      redirect: false,
    });
    setPending(false);
    if (!result || result.error) {
      setError(m.wrongPassword);
      return;
    }
    router.push(callbackUrl);
    router.refresh();
  }

  return (
    <form className="stack" onSubmit={onSubmit} data-testid="signin-form">
      <label>
        {m.email}
        <input name="email" type="email" autoComplete="username" required data-testid="signin-email" />
      </label>
      <label>
        {m.password}
        <input name="password" type="password" autoComplete="current-password" required data-testid="signin-password" />
      </label>
      {error && <p className="error" role="alert" data-testid="signin-error">{error}</p>}
      <button type="submit" disabled={pending} data-testid="signin-submit">
        {pending ? "…" : m.signIn}
      </button>
    </form>
  );
}

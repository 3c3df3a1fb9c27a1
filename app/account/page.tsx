import { redirect } from "next/navigation";
import { PasswordForm } from "@/components/account/password-form";
import { currentUser } from "@/lib/auth/session";
import { messages } from "@/lib/i18n";
import { currentLang, titleFrom } from "@/lib/lang-server";
import { localPath } from "@/lib/local-path";

export const dynamic = "force-dynamic";

export const generateMetadata = titleFrom("account.title");

export default async function AccountPage({ searchParams }: { searchParams: Promise<{ next?: string }> }) {
  const user = await currentUser();
  if (!user) redirect("/signin?callbackUrl=%2Faccount");
  const { account, errors } = messages(await currentLang());
  const { next } = await searchParams;
  const safeNext = localPath(next);
  return (
    <div className="card">
      <h1>{account.title}</h1>
      <p>{user.email} · {user.role === "admin" ? account.roleAdmin : account.roleVoter}</p>
      {user.mustChangePassword && <p className="notice bad" data-testid="password-required">{account.mustChange}</p>}
      <PasswordForm next={user.mustChangePassword ? (safeNext ?? (user.role === "admin" ? "/admin" : "/")) : null} m={{ account, errors }} />
    </div>
  );
}

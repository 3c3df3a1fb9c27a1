import { redirect } from "next/navigation";
import { PasswordForm } from "@/components/account/password-form";
import { currentUser } from "@/lib/auth/session";

export const dynamic = "force-dynamic";

export default async function AccountPage({ searchParams }: { searchParams: Promise<{ next?: string }> }) {
  const user = await currentUser();
  if (!user) redirect("/signin?callbackUrl=%2Faccount");
  const { next } = await searchParams;
  // Only same-site paths, as on the sign-in page.
  const safeNext = next?.startsWith("/") && !next.startsWith("//") ? next : null;
  return (
    <div className="card">
      <h1>账户 · Account</h1>
      <p>{user.email} · {user.role}</p>
      {user.mustChangePassword && (
        <p className="notice bad" data-testid="password-required">
          请先设置新密码：当前密码是别人为你设置的。 · Choose a new password first: the current one was set by someone else.
        </p>
      )}
      <PasswordForm next={user.mustChangePassword ? (safeNext ?? (user.role === "admin" ? "/admin" : "/")) : null} />
    </div>
  );
}

import { ActionButton } from "@/components/admin/action-button";
import { PasswordReset, UserCreate } from "@/components/admin/user-create";
import { listUsers } from "@/lib/admin/users";
import { requireAdminPage } from "@/lib/auth/session";
import { fill, messages } from "@/lib/i18n";
import { currentLang, titleFrom } from "@/lib/lang-server";

export const dynamic = "force-dynamic";
export const generateMetadata = titleFrom("adminUsers.title");

export default async function AdminUsersPage({ searchParams }: { searchParams: Promise<{ q?: string }> }) {
  const me = await requireAdminPage("/admin/users");
  const said = messages(await currentLang()).adminUsers;
  const { q } = await searchParams;
  const users = await listUsers({ q: typeof q === "string" && q ? q : undefined });
  return (
    <div>
      <h1>{said.title}</h1>
      <UserCreate said={said} />
      <form method="get" className="admin-row">
        <input name="q" defaultValue={q} placeholder={said.searchPlaceholder} aria-label={said.searchLabel} data-testid="user-search" />
        <button type="submit">{said.search}</button>
      </form>
      <p className="small muted">{said.rule}</p>
      <div className="admin-scroll">
        <table className="admin-table" data-testid="user-list">
          <thead><tr><th>{said.colEmail}</th><th>{said.colRole}</th><th>{said.colStatus}</th><th>{said.colLastSignIn}</th><th>{said.colActions}</th></tr></thead>
          <tbody>
            {users.map((u) => (
              <tr key={u.id} data-testid={`user-row-${u.email}`}>
                <td>{u.email}{u.id === me.id && <span className="muted small">{said.you}</span>}</td>
                <td><span className={`badge ${u.role === "admin" ? "ok" : "retired"}`}>{u.role === "admin" ? said.roleAdmin : said.roleVoter}</span></td>
                <td>{u.disabled ? <span className="badge bad">{said.disabled}</span> : <span className="badge ok">{said.enabled}</span>}{u.mustChangePassword && <span className="muted small">{said.mustChangePassword}</span>}</td>
                <td className="small">{u.lastLoginAt?.toISOString().replace("T", " ").slice(0, 16) ?? "—"}</td>
                <td>
                  <div className="admin-row">
                    {u.role === "voter"
                      ? <ActionButton url={`/api/admin/users/${u.id}`} method="PATCH" body={{ role: "admin" }} label={said.promote} testId={`user-promote-${u.email}`} />
                      : <ActionButton url={`/api/admin/users/${u.id}`} method="PATCH" body={{ role: "voter" }} label={said.demote} testId={`user-demote-${u.email}`} />}
                    {u.disabled
                      ? <ActionButton url={`/api/admin/users/${u.id}`} method="PATCH" body={{ disabled: false }} label={said.enable} testId={`user-enable-${u.email}`} />
                      : u.id !== me.id && <ActionButton url={`/api/admin/users/${u.id}`} method="PATCH" body={{ disabled: true }} label={said.disable} confirm={fill(said.confirmDisable, { email: u.email })} testId={`user-disable-${u.email}`} />}
                    {u.id !== me.id && <PasswordReset userId={u.id} email={u.email} said={said} />}
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

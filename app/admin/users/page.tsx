import { ActionButton } from "@/components/admin/action-button";
import { PasswordReset, UserCreate } from "@/components/admin/user-create";
import { listUsers } from "@/lib/admin/users";
import { requireAdminPage } from "@/lib/auth/session";

export const dynamic = "force-dynamic";

export default async function AdminUsersPage({ searchParams }: { searchParams: Promise<{ q?: string }> }) {
  const me = await requireAdminPage("/admin/users");
  const { q } = await searchParams;
  const users = await listUsers({ q: typeof q === "string" && q ? q : undefined });
  return (
    <div>
      <h1>用户 Users</h1>
      <UserCreate />
      <form method="get" className="admin-row">
        <input name="q" defaultValue={q} placeholder="email" aria-label="Search by email" data-testid="user-search" />
        <button type="submit">搜索 Search</button>
      </form>
      <p className="small muted">最后一个启用的管理员不能被降级或停用；管理员不能停用自己。 The last enabled admin cannot be demoted or disabled; admins cannot disable themselves.</p>
      <div className="admin-scroll">
        <table className="admin-table" data-testid="user-list">
          <thead><tr><th>邮箱 Email</th><th>角色 Role</th><th>状态 Status</th><th>最近登录 Last sign-in</th><th>操作 Actions</th></tr></thead>
          <tbody>
            {users.map((u) => (
              <tr key={u.id} data-testid={`user-row-${u.email}`}>
                <td>{u.email}{u.id === me.id && <span className="muted small"> (you)</span>}</td>
                <td><span className={`badge ${u.role === "admin" ? "ok" : "retired"}`}>{u.role}</span></td>
                <td>{u.disabled ? <span className="badge bad">disabled</span> : <span className="badge ok">enabled</span>}{u.mustChangePassword && <span className="muted small"> · must change password</span>}</td>
                <td className="small">{u.lastLoginAt?.toISOString().replace("T", " ").slice(0, 16) ?? "—"}</td>
                <td>
                  <div className="admin-row">
                    {u.role === "voter"
                      ? <ActionButton url={`/api/admin/users/${u.id}`} method="PATCH" body={{ role: "admin" }} label="设为管理员 Promote" testId={`user-promote-${u.email}`} />
                      : <ActionButton url={`/api/admin/users/${u.id}`} method="PATCH" body={{ role: "voter" }} label="取消管理员 Demote" testId={`user-demote-${u.email}`} />}
                    {u.disabled
                      ? <ActionButton url={`/api/admin/users/${u.id}`} method="PATCH" body={{ disabled: false }} label="启用 Enable" testId={`user-enable-${u.email}`} />
                      : u.id !== me.id && <ActionButton url={`/api/admin/users/${u.id}`} method="PATCH" body={{ disabled: true }} label="停用 Disable" confirm={`Disable ${u.email}?`} testId={`user-disable-${u.email}`} />}
                    {u.id !== me.id && <PasswordReset userId={u.id} email={u.email} />}
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

import Link from "next/link";

export type AdminNavTexts = Readonly<Record<(typeof links)[number][1] | "label", string>>;

const links = [
  ["/admin", "overview"],
  ["/admin/models", "models"],
  ["/admin/questions", "questions"],
  ["/admin/categories", "categories"],
  ["/admin/pregen", "pregen"],
  ["/admin/judge", "judge"],
  ["/admin/votes", "votes"],
  ["/admin/ratings", "ratings"],
  ["/admin/settings", "settings"],
  ["/admin/users", "users"],
  ["/admin/system", "system"],
  ["/admin/audit", "audit"],
] as const;

export function AdminNav({ said }: { said: AdminNavTexts }) {
  return (
    <nav className="admin-nav" aria-label={said.label}>
      {links.map(([href, key]) => (
        <Link key={key} href={href} data-testid={`admin-nav-${key}`}>{said[key]}</Link>
      ))}
    </nav>
  );
}

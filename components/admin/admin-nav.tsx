import Link from "next/link";

const links: [string, string, string][] = [
  ["/admin", "概览 Overview", "overview"],
  ["/admin/models", "模型 Models", "models"],
  ["/admin/questions", "题库 Questions", "questions"],
  ["/admin/categories", "类别 Categories", "categories"],
  ["/admin/pregen", "预生成 Pre-generation", "pregen"],
  ["/admin/judge", "AI 评审 AI judge", "judge"],
  ["/admin/votes", "投票审核 Votes", "votes"],
  ["/admin/ratings", "评分 Ratings", "ratings"],
  ["/admin/settings", "对战设置 Arena settings", "settings"],
  ["/admin/users", "用户 Users", "users"],
  ["/admin/system", "系统 System", "system"],
  ["/admin/audit", "审计 Audit log", "audit"],
];

export function AdminNav() {
  return (
    <nav className="admin-nav" aria-label="Admin">
      {links.map(([href, label, key]) => (
        <Link key={key} href={href} data-testid={`admin-nav-${key}`}>{label}</Link>
      ))}
    </nav>
  );
}

import Link from "next/link";

export default function Forbidden() {
  return (
    <div className="card" data-testid="forbidden">
      <h1>403 · 无权访问 Forbidden</h1>
      <p>This page is for admins only.</p>
      <Link href="/">Home</Link>
    </div>
  );
}

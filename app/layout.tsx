import type { Metadata, Viewport } from "next";
import Link from "next/link";
import "./globals.css";

export const metadata: Metadata = {
  title: "Leitai 擂台 — LLM arena",
  description: "Blind pairwise battles between language models, ranked by votes.",
};

export const viewport: Viewport = { width: "device-width", initialScale: 1 };

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="zh-CN">
      <body>
        <header className="site-header">
          <Link href="/" className="brand" data-testid="brand">
            擂台 <span>Leitai</span>
          </Link>
          <nav>
            <Link href="/battle">对战 Battle</Link>
            <Link href="/leaderboard">排行榜 Leaderboard</Link>
            <Link href="/admin">管理 Admin</Link>
          </nav>
        </header>
        <main>{children}</main>
      </body>
    </html>
  );
}

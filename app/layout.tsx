import type { Metadata, Viewport } from "next";
import Link from "next/link";
import { LangSwitch } from "@/components/lang-switch";
import { t } from "@/lib/i18n";
import { currentLang } from "@/lib/lang-server";
import "./globals.css";

export const metadata: Metadata = {
  title: "Leitai 擂台 — LLM arena",
  description: "Blind pairwise battles between language models, ranked by votes.",
};

export const viewport: Viewport = { width: "device-width", initialScale: 1 };

export default async function RootLayout({ children }: { children: React.ReactNode }) {
  const lang = await currentLang();
  return (
    <html lang={lang === "zh" ? "zh-CN" : "en"}>
      <body>
        <header className="site-header">
          <Link href="/" className="brand" data-testid="brand">
            擂台 <span>Leitai</span>
          </Link>
          <nav>
            <Link href="/battle">{t(lang, "battle")}</Link>
            <Link href="/compare">{t(lang, "compare")}</Link>
            <Link href="/leaderboard">{t(lang, "leaderboard")}</Link>
            <Link href="/models">{t(lang, "models")}</Link>
            <Link href="/battles">{t(lang, "battleLog")}</Link>
            <Link href="/admin">{t(lang, "admin")}</Link>
            <LangSwitch lang={lang} />
          </nav>
        </header>
        <main>{children}</main>
      </body>
    </html>
  );
}

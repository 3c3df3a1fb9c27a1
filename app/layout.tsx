import type { Metadata, Viewport } from "next";
import Link from "next/link";
import { LangSwitch } from "@/components/lang-switch";
import { htmlLang, messages } from "@/lib/i18n";
import { currentLang } from "@/lib/lang-server";
import "./globals.css";

// Each page names itself (generateMetadata); the template adds the site's name after it.
export async function generateMetadata(): Promise<Metadata> {
  const { site } = messages(await currentLang());
  return { title: { template: `%s · ${site.name}`, default: site.title }, description: site.description };
}

export const viewport: Viewport = { width: "device-width", initialScale: 1 };

export default async function RootLayout({ children }: { children: React.ReactNode }) {
  const lang = await currentLang();
  const { site, nav } = messages(lang);
  return (
    <html lang={htmlLang(lang)}>
      <body>
        <header className="site-header">
          <Link href="/" className="brand" data-testid="brand">{site.name}</Link>
          <nav>
            <Link href="/battle">{nav.battle}</Link>
            <Link href="/compare">{nav.compare}</Link>
            <Link href="/leaderboard">{nav.leaderboard}</Link>
            <Link href="/models">{nav.models}</Link>
            <Link href="/battles">{nav.battles}</Link>
            <Link href="/admin">{nav.admin}</Link>
            <LangSwitch lang={lang} label={site.switchTo} hint={site.switchHint} />
          </nav>
        </header>
        <main>{children}</main>
      </body>
    </html>
  );
}

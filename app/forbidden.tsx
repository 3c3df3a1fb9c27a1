import Link from "next/link";
import { messages } from "@/lib/i18n";
import { currentLang } from "@/lib/lang-server";

export default async function Forbidden() {
  const { site } = messages(await currentLang());
  return (
    <div className="card" data-testid="forbidden">
      {/* A forbidden() page has no metadata of its own: React puts this title in the head. */}
      <title>{`${site.forbiddenTitle} · ${site.name}`}</title>
      <h1>403 · {site.forbiddenTitle}</h1>
      <p>{site.forbiddenText}</p>
      <Link href="/">{site.home}</Link>
    </div>
  );
}

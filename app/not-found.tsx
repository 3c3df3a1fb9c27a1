import Link from "next/link";
import { messages } from "@/lib/i18n";
import { currentLang, titleFrom } from "@/lib/lang-server";

export const generateMetadata = titleFrom("site.notFoundTitle");

export default async function NotFound() {
  const { site } = messages(await currentLang());
  return (
    <div className="card" data-testid="not-found">
      <h1>404 · {site.notFoundTitle}</h1>
      <p>{site.notFoundText}</p>
      <Link href="/">{site.home}</Link>
    </div>
  );
}

import type { Metadata } from "next";
import { cookies, headers } from "next/headers";
import { isLang, LANG_COOKIE, langFromAcceptLanguage, t, type Lang, type MessageKey } from "./i18n";

/** The reader's language: the switch's cookie once they have used it, else what their browser asks for. */
export async function currentLang(): Promise<Lang> {
  const chosen = (await cookies()).get(LANG_COOKIE)?.value;
  if (isLang(chosen)) return chosen;
  return langFromAcceptLanguage((await headers()).get("accept-language"));
}

/** A page's generateMetadata: its title from the catalogue, in the reader's language (the layout adds the site's name). */
export function titleFrom(key: MessageKey): () => Promise<Metadata> {
  return async () => ({ title: t(await currentLang(), key) });
}

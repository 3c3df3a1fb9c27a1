import { cookies } from "next/headers";
import { LANG_COOKIE, langOf, type Lang } from "./i18n";

export async function currentLang(): Promise<Lang> {
  return langOf((await cookies()).get(LANG_COOKIE)?.value);
}

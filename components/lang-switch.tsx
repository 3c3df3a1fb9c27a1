"use client";

import { useRouter } from "next/navigation";
import { htmlLang, LANG_COOKIE, type Lang } from "@/lib/i18n/lang";

/** Switches the site to the other language; its label is that language's own name. */
export function LangSwitch({ lang, label, hint }: { lang: Lang; label: string; hint: string }) {
  const router = useRouter();
  const next: Lang = lang === "zh" ? "en" : "zh";
  return (
    <button
      type="button"
      className="lang-switch"
      data-testid="lang-switch"
      lang={htmlLang(next)}
      title={hint}
      aria-label={hint}
      onClick={() => {
        document.cookie = `${LANG_COOKIE}=${next}; path=/; max-age=31536000; samesite=lax`;
        router.refresh();
      }}
    >
      {label}
    </button>
  );
}

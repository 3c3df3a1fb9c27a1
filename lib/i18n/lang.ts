// The UI speaks Chinese or English, one at a time. The voter's choice lives in a cookie so server
// pages render in the right language on the first byte; before they choose, the browser's
// Accept-Language decides. This file holds that choice and the helpers client components use;
// no catalogue, so a client bundle that imports it carries none.

export const LANG_COOKIE = "leitai_lang";
export const LANGS = ["zh", "en"] as const;
export type Lang = (typeof LANGS)[number];
/** The arena's language when nothing says otherwise. */
export const DEFAULT_LANG: Lang = "zh";

export function isLang(value: unknown): value is Lang {
  return typeof value === "string" && (LANGS as readonly string[]).includes(value);
}

/** What `<html lang>` says for a page in this language. */
export function htmlLang(lang: Lang): string {
  return lang === "zh" ? "zh-CN" : "en";
}

/**
 * The supported language an Accept-Language header prefers: its tags by q-value (the header's
 * order among equals), the first whose primary subtag is zh or en. `*`, unknown tags, q=0 and
 * malformed entries choose nothing; no choice at all is the default language.
 */
export function langFromAcceptLanguage(header: string | null | undefined): Lang {
  const ranked = (header ?? "")
    .split(",")
    .map((entry, index) => {
      const [tag = "", ...params] = entry.split(";").map((part) => part.trim());
      const qParam = params.find((p) => /^q\s*=/i.test(p));
      const q = qParam === undefined ? 1 : qValue(qParam.slice(qParam.indexOf("=") + 1).trim());
      return { primary: tag.toLowerCase().split("-")[0] ?? "", q, index };
    })
    .filter((e) => e.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index);
  return ranked.map((e) => e.primary).find(isLang) ?? DEFAULT_LANG;
}

/** RFC 9110 qvalue: 0 to 1 with at most three decimals; anything else counts as 0 (not chosen). */
function qValue(text: string): number {
  return /^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(text) ? Number(text) : 0;
}

/** A message with its `{name}` placeholders filled in. */
export function fill(text: string, values: Record<string, string | number>): string {
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in values ? String(values[name]) : whole));
}

/**
 * A catalogue message by its key. A value may be a message of the same section in turn (a check's
 * reason inside "not enabled: {reason}"), said first in the same language.
 */
export type Said = { key: string; values?: SaidValues };
export type SaidValues = Record<string, string | number | Said>;

/** The message `said` names in `texts`, nested ones included; undefined when `texts` lacks any of their keys. */
export function sayIn(texts: Readonly<Record<string, string>>, said: Said): string | undefined {
  if (!Object.hasOwn(texts, said.key)) return undefined;
  const values: Record<string, string | number> = {};
  for (const [name, value] of Object.entries(said.values ?? {})) {
    if (typeof value !== "object") values[name] = value;
    else {
      const nested = value !== null && typeof value.key === "string" ? sayIn(texts, value) : undefined;
      if (nested === undefined) return undefined;
      values[name] = nested;
    }
  }
  return fill(texts[said.key]!, values);
}

/**
 * A server refusal as the page says it: the catalogue message its `key` names, in the page's
 * language, when the page has it (a voter who just switched may not read the request's language).
 */
export function knownErrorText(error: { key?: string; values?: SaidValues } | undefined, said: Readonly<Record<string, string>>): string | undefined {
  if (error?.key === undefined) return undefined;
  return sayIn(said, { key: error.key, values: error.values });
}

/** A name stored in both languages (a category's), in this one. */
export function nameIn(lang: Lang, names: { nameZh: string; nameEn: string }): string {
  return lang === "zh" ? names.nameZh : names.nameEn;
}

import { en } from "./en";
import { fill, type Lang } from "./lang";
import { zh, type Catalogue } from "./zh";

// Every UI string and user-facing error lives in the two catalogues (zh.ts, en.ts), in sections
// by page or part. A page renders in one language: messages(lang) is that language's catalogue.

export * from "./lang";
export type { Catalogue };

const catalogues: Record<Lang, Catalogue> = { zh, en };

export type Section = keyof Catalogue;
/** `section.key`, as t() takes it. */
export type MessageKey = { [S in Section]: `${S}.${keyof Catalogue[S] & string}` }[Section];
export type ErrorKey = keyof Catalogue["errors"];

/**
 * A refusal the server words only when it answers: the catalogue key, and the values for its
 * placeholders. lib/errors.ts says it in the reader's language; clients may say it again in theirs.
 */
export type ErrorMessage = { key: ErrorKey; values?: ErrorValues };
/** A placeholder's value: text, a number, or another catalogue error said in the same language. */
export type ErrorValues = Record<string, string | number | ErrorMessage>;

export function messages(lang: Lang): Catalogue {
  return catalogues[lang];
}

export function t(lang: Lang, key: MessageKey): string {
  const dot = key.indexOf(".");
  const section = catalogues[lang][key.slice(0, dot) as Section] as Readonly<Record<string, string>>;
  return section[key.slice(dot + 1)]!;
}

export function sayError(lang: Lang, message: ErrorMessage): string {
  const values: Record<string, string | number> = {};
  for (const [name, value] of Object.entries(message.values ?? {})) values[name] = typeof value === "object" ? sayError(lang, value) : value;
  return fill(catalogues[lang].errors[message.key], values);
}

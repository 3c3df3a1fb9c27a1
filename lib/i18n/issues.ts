import type { core } from "zod";
import en from "zod/v4/locales/en.js";
import zhCN from "zod/v4/locales/zh-CN.js";
import { fill, type Lang } from "./lang";

// A schema's field message in one language. A shared schema (lib/schemas) gives its custom
// messages as keys of the formErrors catalogue, filled from the issue (`maximum`, `minimum`) and
// its `params`; a message zod words itself is said again by zod's own locale. Client-safe: a
// form passes its language's formErrors section.

type Issue = core.$ZodIssue;

const zodLocales = { zh: zhCN().localeError, en: en().localeError } satisfies Record<Lang, core.$ZodErrorMap>;

/** zod's own wording of an issue in `lang`, for parses that know the language beforehand (a form's resolver). */
export function zodErrorMap(lang: Lang): core.$ZodErrorMap {
  return zodLocales[lang];
}

export function issueText(lang: Lang, formErrors: Readonly<Record<string, string>>, issue: Issue): string {
  if (Object.hasOwn(formErrors, issue.message)) {
    const params = (("params" in issue ? issue.params : undefined) ?? {}) as Record<string, string | number>;
    const values: Record<string, string | number> = { ...params };
    for (const name of ["maximum", "minimum"] as const) {
      const value = (issue as unknown as Record<string, unknown>)[name];
      if (typeof value === "number" || typeof value === "bigint") values[name] = Number(value);
    }
    return fill(formErrors[issue.message]!, values);
  }
  const worded = zodLocales[lang](issue as unknown as core.$ZodRawIssue);
  const text = typeof worded === "string" ? worded : worded?.message;
  return text ?? issue.message;
}

/**
 * Each field's messages by its dotted path ("" for the whole input), several joined in the order
 * zod found them: a custom template missing two placeholders says both.
 */
export function fieldErrors(lang: Lang, formErrors: Readonly<Record<string, string>>, issues: readonly Issue[]): Record<string, string> {
  const fields = new Map<string, string[]>();
  for (const issue of issues) {
    const path = issue.path.map(String).join(".");
    const text = issueText(lang, formErrors, issue);
    const said = fields.get(path) ?? [];
    if (!said.includes(text)) said.push(text);
    fields.set(path, said);
  }
  return Object.fromEntries([...fields].map(([path, said]) => [path, said.join(" ")]));
}

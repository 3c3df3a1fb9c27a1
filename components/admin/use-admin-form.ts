"use client";

import { toNestErrors } from "@hookform/resolvers";
import { useForm, type DefaultValues, type FieldErrors, type FieldPath, type FieldValues, type Resolver } from "react-hook-form";
import type { z } from "zod";
import { fieldErrors, zodErrorMap } from "@/lib/i18n/issues";
import type { Lang } from "@/lib/i18n/lang";
import { apiErrorText, callApi, type ApiResult, type ApiTexts } from "./api";
import { useAdminTexts } from "./admin-texts";

// Admin forms: react-hook-form checked by the API's own zod schema (lib/schemas), every field's
// message beside it in the page's language, and the server's refusals put back on their fields.

type Schema = z.ZodType<FieldValues, FieldValues>;

/**
 * The schema as a resolver. zodResolver would keep only each issue's message, and a shared
 * schema's message is a catalogue key whose placeholders need the issue (`maximum`, `params`).
 */
export function schemaResolver<S extends Schema>(schema: S, lang: Lang, formErrors: Readonly<Record<string, string>>): Resolver<z.input<S>, unknown, z.output<S>> {
  return async (values, _context, options) => {
    const result = await schema.safeParseAsync(values, { error: zodErrorMap(lang), reportInput: true });
    if (result.success) return { values: result.data, errors: {} };
    const flat: FieldErrors = {};
    for (const [field, message] of byField(fieldErrors(lang, formErrors, result.error.issues), values)) flat[field ?? "root"] = { type: "schema", message };
    return { values: {}, errors: toNestErrors(flat, options) };
  };
}

/**
 * Messages by the form field they belong to: the deepest part of a path that is a field of the
 * form ("aliases.2" is the aliases box's, "engine.path" the engine's path box), the first message
 * of each; null for a path that names no field of the form (it goes under the form).
 */
function byField(messages: Record<string, string>, values: unknown): [string | null, string][] {
  const fields = new Map<string | null, string>();
  for (const [path, message] of Object.entries(messages)) {
    const field = fieldOf(path, values);
    if (!fields.has(field)) fields.set(field, message);
  }
  return [...fields];
}

function fieldOf(path: string, values: unknown): string | null {
  const parts = path === "" ? [] : path.split(".");
  let at = values;
  let depth = 0;
  while (depth < parts.length && isGroup(at) && Object.hasOwn(at, parts[depth]!)) at = at[parts[depth++]!];
  return depth === 0 ? null : parts.slice(0, depth).join(".");
}

/** A nested group of fields (not an array box or a value). */
function isGroup(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

export function useAdminForm<S extends Schema>(schema: S, defaultValues: DefaultValues<z.input<S>>) {
  const { lang, formErrors } = useAdminTexts();
  const form = useForm<z.input<S>, unknown, z.output<S>>({ resolver: schemaResolver(schema, lang, formErrors), defaultValues });

  /** Calls the API; a refusal's messages land on their fields, or under the form when it names none. */
  async function send<T = unknown>(url: string, init: { method?: string; body?: unknown }): Promise<ApiResult<T>> {
    const result = await callApi<T>(url, init);
    if (result.ok) return result;
    const fields = result.error.fields ?? (result.error.field ? { [result.error.field]: result.error.message } : {});
    const known = byField(fields, form.getValues()).filter((entry): entry is [string, string] => entry[0] !== null);
    for (const [field, message] of known) form.setError(field as FieldPath<z.input<S>>, { type: "server", message });
    if (known.length === 0) form.setError("root.server", { type: "server", message: apiErrorText(result.error, formErrors as ApiTexts) });
    return result;
  }

  return { ...form, send };
}

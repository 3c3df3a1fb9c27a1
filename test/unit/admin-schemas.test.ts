import { describe, expect, it } from "vitest";
import type { core, z } from "zod";
import { en } from "@/lib/i18n/en";
import { zh } from "@/lib/i18n/zh";
import { enForms } from "@/lib/i18n/admin/en-forms";
import { zhForms } from "@/lib/i18n/admin/zh-forms";
import { answerImportFormSchema } from "@/lib/schemas/answer-import";
import { arenaSettingsInput } from "@/lib/schemas/arena-settings";
import { categoryFormSchema, categoryInputSchema } from "@/lib/schemas/category";
import { generationDefaultsSchema, localEngineSchema, modelFormSchema, modelInputSchema, openaiEngineSchema, type ModelFormValues } from "@/lib/schemas/model";
import { questionFormSchema, questionInputSchema, questionPatchSchema } from "@/lib/schemas/question";
import { ratingSettingsInput } from "@/lib/schemas/rating-settings";
import { newUserSchema } from "@/lib/schemas/user";

// Every custom message of the shared admin schemas is a key of formErrors in both catalogues:
// found by walking each schema's own checks, and by the issues that invalid inputs produce.

const schemas: Record<string, z.ZodType> = {
  categoryFormSchema, categoryInputSchema, modelInputSchema, modelFormSchema, localEngineSchema, openaiEngineSchema, generationDefaultsSchema,
  questionInputSchema, questionPatchSchema, questionFormSchema, arenaSettingsInput, ratingSettingsInput, newUserSchema, answerImportFormSchema,
};

const PROBES = ["invalid_type", "too_small", "too_big", "invalid_format", "not_multiple_of", "unrecognized_keys", "invalid_union", "invalid_value", "custom"]
  .map((code) => ({ code, input: undefined, path: [] }));

/** The messages a schema gives of its own: each check's and each schema's `error`, tried on every kind of issue. */
function ownMessages(schema: unknown, found = new Set<string>(), seen = new Set<unknown>()): Set<string> {
  if (!schema || typeof schema !== "object" || seen.has(schema) || !("_zod" in schema)) return found;
  seen.add(schema);
  const def = (schema as { _zod: { def: Record<string, unknown> } })._zod.def;
  const sayers = [def, ...((def.checks as { _zod: { def: Record<string, unknown> } }[] | undefined) ?? []).map((c) => c._zod.def)];
  for (const d of sayers) {
    if (typeof d.error !== "function") continue;
    for (const probe of PROBES) {
      const said = (d.error as (issue: unknown) => unknown)(probe);
      const text = typeof said === "string" ? said : (said as { message?: unknown } | undefined)?.message;
      if (typeof text === "string") found.add(text);
    }
  }
  for (const value of Object.values(def)) {
    const parts = Array.isArray(value) ? value : value && typeof value === "object" && !("_zod" in value) ? Object.values(value) : [value];
    for (const part of parts) ownMessages(part, found, seen);
  }
  // An object's shape is a getter on the def.
  if (def.type === "object") for (const field of Object.values((schema as unknown as { shape: Record<string, unknown> }).shape)) ownMessages(field, found, seen);
  return found;
}

const formBoxes: ModelFormValues = {
  kind: "local", slug: "Bad Slug", displayName: "", description: "", organisation: "", licence: "", link: "not a url", battleWeight: "-1",
  engine: {
    path: "", dtype: "auto", chatTemplate: "custom", chatTemplateJinja: "plain", systemPrompt: "", contextLength: "1.5",
    ropeScaling: { type: "yarn", factor: "0" }, runtimeUrl: "nope", servedName: "", draftPath: "", numSpeculativeTokens: "17", baseUrl: "", remoteModel: "",
  },
  generationDefaults: { temperature: "3", topP: "0", topK: "x", repetitionPenalty: "0.1", maxTokens: "0", seed: "-1" },
  apiKey: "", clearApiKey: false,
};

/** Inputs that break every field they can, for the issues they produce (refinements included). */
const invalidInputs: [z.ZodType, unknown][] = [
  [categoryFormSchema, { slug: "-x", nameZh: "", nameEn: "x".repeat(101), sortOrder: -1, aliases: "a,b\n/\na\nA" }],
  [categoryFormSchema, { slug: "x", nameZh: "x", nameEn: "x", sortOrder: 10_001, aliases: Array.from({ length: 21 }, (_, i) => `alias${i}`).join("\n") }],
  [modelFormSchema, formBoxes],
  [modelFormSchema, { ...formBoxes, engine: { ...formBoxes.engine, chatTemplateJinja: "" } }],
  [modelFormSchema, { ...formBoxes, kind: "openai", engine: { ...formBoxes.engine, baseUrl: "x" } }],
  // A refinement speaks once the rest of its object is valid.
  [localEngineSchema, { path: "/m", chatTemplate: "custom", chatTemplateJinja: "plain" }],
  [localEngineSchema, { path: "/m", chatTemplate: "custom", chatTemplateJinja: " " }],
  [modelInputSchema, { kind: "offline", slug: "x", displayName: "x", engine: { path: "/m" } }],
  [questionFormSchema, { text: " ", categoryId: "", language: "Chinese", tags: `${"t".repeat(51)}|${Array.from({ length: 20 }, (_, i) => i).join("|")}`, externalId: "x".repeat(201), active: true }],
  [questionFormSchema, { text: "q", categoryId: "c", language: "zh", tags: "t".repeat(51), externalId: "", active: true }],
  [arenaSettingsInput, { publishLivePrompts: 1, liveBattlesPerVoter: -1, liveBattlesPerIp: 2.5, turnsPerVoter: NaN, limitWindowS: 0, signedInFactor: 101 }],
  [ratingSettingsInput, { anchorModelId: "", anchorRating: -1, dedupThreshold: 0.5, minBattlesRanked: 0 }],
  [newUserSchema, { email: "not an email", role: "root" }],
  [answerImportFormSchema, { source: "[1]", createQuestions: "yes" }],
];

const keyLike = (message: string) => /^[a-z][A-Za-z0-9]*$/.test(message);
const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe("the shared admin schemas' messages", () => {
  it.each(Object.entries(schemas))("%s: every message of its own is a formErrors key in both catalogues", (_, schema) => {
    const messages = [...ownMessages(schema)];
    expect(messages.length).toBeGreaterThan(0);
    for (const message of messages) {
      expect(Object.keys(zh.formErrors), `zh lacks "${message}"`).toContain(message);
      expect(Object.keys(en.formErrors), `en lacks "${message}"`).toContain(message);
    }
  });

  it.each(invalidInputs.map((entry, i) => [i, ...entry] as const))("invalid input %i: each issue is a catalogue key or zod's own wording", (_, schema, input) => {
    const result = schema.safeParse(input);
    expect(result.success).toBe(false);
    const issues: core.$ZodIssue[] = result.error!.issues;
    expect(issues.length).toBeGreaterThan(0);
    for (const issue of issues) {
      if (!keyLike(issue.message)) continue; // zod's own text, worded again in the page's language
      expect(Object.hasOwn(zh.formErrors, issue.message), `zh lacks "${issue.message}" (${issue.path.join(".")})`).toBe(true);
      expect(Object.hasOwn(en.formErrors, issue.message), `en lacks "${issue.message}" (${issue.path.join(".")})`).toBe(true);
    }
  });

  it("the refinements' own messages come out of those inputs", () => {
    const said = new Set(invalidInputs.flatMap(([schema, input]) => schema.safeParse(input).error!.issues.map((i) => i.message)));
    for (const key of ["aliasRepeats", "aliasSeparatorsOnly", "customTemplateNotJinja", "customTemplateNeedsJinja", "offlineNoEngine", "sourceJson", "tooManyTags", "tagTooLong"]) {
      expect(said, key).toContain(key);
    }
  });

  it("the forms' catalogue parts say the same placeholders in both languages", () => {
    for (const part of ["errors", "formErrors"] as const) {
      for (const [key, text] of Object.entries(zhForms[part])) expect(placeholders((enForms[part] as Record<string, string>)[key]!), `${part}.${key}`).toEqual(placeholders(text));
    }
    for (const [section, texts] of Object.entries(zhForms.sections)) {
      for (const [key, text] of Object.entries(texts)) {
        expect(placeholders((enForms.sections as Record<string, Record<string, string>>)[section]![key]!), `${section}.${key}`).toEqual(placeholders(text));
      }
    }
  });
});

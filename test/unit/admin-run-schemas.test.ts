import { describe, expect, it } from "vitest";
import { messages, type Lang } from "@/lib/i18n";
import { fieldErrors } from "@/lib/i18n/issues";
import { startJudgeRunSchema } from "@/lib/schemas/judge";
import { startPregenSchema } from "@/lib/schemas/pregen";
import { moderationFormSchema, moderationSchema } from "@/lib/schemas/votes";
import type { z } from "zod";

// The start forms of pre-generation and judge runs and the vote moderation reason: one schema for
// the API and the admin form, each field's message in the reader's language.

function said(lang: Lang, schema: z.ZodType, input: unknown): Record<string, string> {
  const result = schema.safeParse(input);
  if (result.success) return {};
  return fieldErrors(lang, messages(lang).formErrors, result.error.issues);
}

describe("the pre-generation start form", () => {
  it("asks for a model and, for one category, the category", () => {
    expect(said("en", startPregenSchema, { modelIds: [], scope: "category" })).toEqual({ modelIds: "Pick at least one model.", categoryId: "Pick a category." });
    expect(said("zh", startPregenSchema, { modelIds: [], scope: "all" })).toEqual({ modelIds: "请至少选择一个模型。" });
  });

  it("takes a group of one checkbox as a list, and drops the category of another scope", () => {
    expect(startPregenSchema.parse({ modelIds: "m1", scope: "all", categoryId: "c1" })).toEqual({ modelIds: ["m1"], scope: "all", categoryId: undefined });
    expect(startPregenSchema.parse({ modelIds: ["m1", "m2"], scope: "category", categoryId: "c1" })).toMatchObject({ categoryId: "c1" });
    expect(said("en", startPregenSchema, { modelIds: false, scope: "all" })).toEqual({ modelIds: "Pick at least one model." });
  });
});

describe("the judge run start form", () => {
  const base = { judgeModelId: "j", contestantIds: ["a", "b"], template: "custom", outputKind: "pairwise" };

  it("names every problem of a custom template on its field, placeholder and all", () => {
    expect(said("en", startJudgeRunSchema, { ...base, customTemplate: "Judge {question} and {answer_a} {answr_b}" }).customTemplate).toBe("Unknown placeholder {answr_b}. Missing placeholder {answer_b}.");
    expect(said("zh", startJudgeRunSchema, { ...base, customTemplate: "Judge {question} and {answer_a}" }).customTemplate).toBe("缺少占位符 {answer_b}。");
    expect(said("en", startJudgeRunSchema, { ...base, customTemplate: "  " }).customTemplate).toBe("The template is empty.");
    expect(startJudgeRunSchema.safeParse({ ...base, customTemplate: "Q {question} A {answer_a} B {answer_b}" }).success).toBe(true);
  });

  it("checks no template a built-in one replaces, and wants two contestants", () => {
    expect(startJudgeRunSchema.safeParse({ ...base, template: "pairwise", customTemplate: "" }).success).toBe(true);
    expect(said("en", startJudgeRunSchema, { ...base, template: "pairwise", contestantIds: "a" })).toEqual({ contestantIds: "Pick at least two contestants." });
    expect(startJudgeRunSchema.parse({ ...base, template: "score10" })).toMatchObject({ categoryIds: [], lang: "zh" });
  });
});

describe("vote moderation", () => {
  it("wants a reason to invalidate, not to restore", () => {
    expect(said("zh", moderationFormSchema, { action: "invalidate", reason: "  " })).toEqual({ reason: "作废投票需要填写理由。" });
    expect(said("en", moderationSchema, { action: "invalidate", ids: ["v1"] })).toEqual({ reason: "Give a reason for invalidating votes." });
    expect(moderationSchema.parse({ action: "restore", ids: ["v1"] })).toEqual({ action: "restore", reason: "", ids: ["v1"] });
  });
});

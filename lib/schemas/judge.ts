import { z } from "zod";
import { checkboxes } from "./checkboxes";
import { MAX_CUSTOM_TEMPLATE_CHARS, templatePlaceholders } from "../judge/templates";

// The AI-judge start form's schema, shared by the API and the admin form (client-safe). Custom
// messages are keys of the formErrors catalogue; a placeholder's name fills `{placeholder}`.

export const JUDGE_TEMPLATES = ["pairwise", "score10", "custom"] as const;
export const JUDGE_OUTPUT_KINDS = ["pairwise", "score10"] as const;

/** A custom template's problems, each on the customTemplate field. */
function checkCustomTemplate(template: string, ctx: z.RefinementCtx) {
  const issue = (message: string, placeholder?: string) =>
    ctx.addIssue({ code: "custom", path: ["customTemplate"], message, params: placeholder ? { placeholder: `{${placeholder}}` } : {} });
  if (template.trim() === "") return issue("judgeTemplateEmpty");
  const { unknown, missing } = templatePlaceholders(template);
  for (const name of unknown) issue("judgeTemplateUnknownPlaceholder", name);
  for (const name of missing) issue("judgeTemplateMissingPlaceholder", name);
}

/** A custom template and the format it asks for; the server checks a run's with it too (lib/judge/runs.ts). */
export const customTemplateSchema = z
  .object({
    customTemplate: z.string().max(MAX_CUSTOM_TEMPLATE_CHARS, "tooLong"),
    outputKind: z.enum(JUDGE_OUTPUT_KINDS),
  })
  .superRefine((input, ctx) => checkCustomTemplate(input.customTemplate, ctx));

export const startJudgeRunSchema = z
  .object({
    judgeModelId: z.string().min(1, "judgePickJudge"),
    contestantIds: checkboxes(z.array(z.string().min(1)).min(2, "judgePickContestants").max(50)),
    categoryIds: checkboxes(z.array(z.string().min(1)).max(100)),
    template: z.enum(JUDGE_TEMPLATES),
    customTemplate: z.string().max(MAX_CUSTOM_TEMPLATE_CHARS, "tooLong").optional(),
    outputKind: z.enum(JUDGE_OUTPUT_KINDS).optional(),
    lang: z.enum(["zh", "en"]).default("zh"),
  })
  .superRefine((input, ctx) => {
    if (input.template === "custom") checkCustomTemplate(input.customTemplate ?? "", ctx);
  });
export type StartJudgeRunInput = z.output<typeof startJudgeRunSchema>;

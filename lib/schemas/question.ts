import { z } from "zod";

// A question's fields, shared by the API (lib/admin/questions.ts re-exports them) and the admin
// question form (client-safe). Messages are keys of the formErrors catalogue.

/** The longest question text, in the form and in a bulk import. */
export const QUESTION_TEXT_MAX_CHARS = 10_000;
export const LANGUAGE_CODE = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;

const questionFields = {
  text: z.string().trim().min(1, "required").max(QUESTION_TEXT_MAX_CHARS, "tooLong"),
  categoryId: z.string().min(1, "required"),
  language: z.string().trim().regex(LANGUAGE_CODE, "languageCode"),
  tags: z.array(z.string().trim().min(1, "required").max(50, "tagTooLong")).max(20, "tooManyTags"),
  externalId: z.string().trim().max(200, "tooLong").nullable(),
  active: z.boolean(),
};

export const questionInputSchema = z.object({
  ...questionFields,
  tags: questionFields.tags.default([]),
  externalId: questionFields.externalId.default(null),
  active: questionFields.active.default(true),
});
/** A partial edit: only the fields given change (no defaults fill the rest). */
export const questionPatchSchema = z.object(questionFields).partial();
export type QuestionInput = z.infer<typeof questionInputSchema>;

/** The admin form: tags typed as `a|b`, an empty external id as none. */
export const questionFormSchema = z
  .object({ text: z.string(), categoryId: z.string(), language: z.string(), tags: z.string(), externalId: z.string(), active: z.boolean() })
  .transform((form): z.input<typeof questionInputSchema> => ({
    ...form,
    tags: form.tags.split("|").map((t) => t.trim()).filter(Boolean),
    externalId: form.externalId.trim() || null,
  }))
  .pipe(questionInputSchema);

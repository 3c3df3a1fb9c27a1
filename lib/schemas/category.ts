import { z } from "zod";
import { categoryNameKey, parseAliasText } from "../category-names";

// The category form's schema, shared by the API and the admin form (client-safe: no server
// imports). Custom messages are keys of the formErrors catalogue; their `{...}` placeholders are
// filled from the issue (`maximum`, `minimum`) or its `params`.

export const ALIAS_LIMITS = { maxChars: 64, maxCount: 20 } as const;

/**
 * Other names of a category. No commas (the admin form separates aliases with them; a comma
 * matches like a space anyway), and no two that read the same once normalised.
 */
export const categoryAliasesSchema = z
  .array(
    z.string().trim()
      .min(1, "aliasEmpty")
      .max(ALIAS_LIMITS.maxChars, "aliasTooLong")
      .refine((a) => !/[,，]/u.test(a), "aliasComma")
      .refine((a) => categoryNameKey(a) !== "", "aliasSeparatorsOnly"),
  )
  .max(ALIAS_LIMITS.maxCount, "tooManyAliases")
  .superRefine((aliases, ctx) => {
    const seen = new Map<string, string>();
    for (const alias of aliases) {
      const key = categoryNameKey(alias);
      const first = seen.get(key);
      if (first !== undefined) ctx.addIssue({ code: "custom", message: "aliasRepeats", params: { alias, first } });
      else seen.set(key, alias);
    }
  });

export const categoryInputSchema = z.object({
  slug: z.string().trim().regex(/^[a-z0-9](?:[a-z0-9-]{0,62})$/, "slugFormat"),
  nameZh: z.string().trim().min(1, "required").max(100, "tooLong"),
  nameEn: z.string().trim().min(1, "required").max(100, "tooLong"),
  sortOrder: z.number().int().min(0, "tooSmall").max(10_000, "tooLarge").default(0),
  /** Left out on an update: the aliases stay as they are. */
  aliases: categoryAliasesSchema.optional(),
});
export type CategoryInput = z.infer<typeof categoryInputSchema>;

/** The admin form's values: the aliases as typed in their box, one a line or comma-separated. */
export const categoryFormSchema = categoryInputSchema.extend({
  aliases: z.string().transform(parseAliasText).pipe(categoryAliasesSchema),
});

import { z } from "zod";
import { checkboxes } from "./checkboxes";

// The pre-generation start form's schema, shared by the API and the admin form (client-safe).
// Custom messages are keys of the formErrors catalogue.

export const PREGEN_SCOPES = ["all", "category", "missing"] as const;

export const startPregenSchema = z
  .object({
    modelIds: checkboxes(z.array(z.string().min(1)).min(1, "pregenPickModels").max(50)),
    scope: z.enum(PREGEN_SCOPES),
    /** Read only when the scope is one category. */
    categoryId: z.string().optional(),
  })
  .superRefine((input, ctx) => {
    if (input.scope === "category" && !input.categoryId) ctx.addIssue({ code: "custom", path: ["categoryId"], message: "pregenPickCategory" });
  })
  .transform(({ categoryId, ...input }) => ({ ...input, categoryId: input.scope === "category" ? categoryId : undefined }));
export type StartPregenInput = z.output<typeof startPregenSchema>;

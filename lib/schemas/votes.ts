import { z } from "zod";

// Vote moderation's schemas, shared by the API and the admin page (client-safe). Custom messages
// are keys of the formErrors catalogue.

export const voteFilterSchema = z.object({
  from: z.coerce.date().optional(),
  to: z.coerce.date().optional(),
  model: z.string().min(1).optional(),
  voterKey: z.string().min(1).optional(),
  ipHash: z.string().min(1).optional(),
  valid: z.enum(["true", "false"]).optional(),
});
export type VoteFilter = z.infer<typeof voteFilterSchema>;

const action = z.enum(["invalidate", "restore"]);
const reason = z.string().trim().max(500, "tooLong").default("");

/** Invalidating takes a reason; restoring does not. */
function reasonToInvalidate(input: { action: string; reason: string }, ctx: z.RefinementCtx) {
  if (input.action === "invalidate" && !input.reason) ctx.addIssue({ code: "custom", path: ["reason"], message: "voteReasonMissing" });
}

/** What the admin types and picks on the votes page: the action and its reason. */
export const moderationFormSchema = z.object({ action, reason }).superRefine(reasonToInvalidate);

export const moderationSchema = z
  .object({
    action,
    reason,
    /** Either explicit vote ids or a filter (which must narrow by voter, IP, model or time). */
    ids: z.array(z.string().min(1)).max(10_000).optional(),
    filter: voteFilterSchema.optional(),
  })
  .superRefine(reasonToInvalidate);
export type Moderation = z.infer<typeof moderationSchema>;

import { z } from "zod";
import { number, wholeNumber } from "./fields";

// The rating settings, as the admin form and the API check them (client-safe;
// lib/arena/rating-settings.ts re-exports it). Messages are keys of the formErrors catalogue.

export const ratingSettingsInput = z.object({
  anchorModelId: z.string().min(1, "required").nullable(),
  anchorRating: number().min(0, "tooSmall").max(10_000, "tooLarge"),
  dedupThreshold: wholeNumber(0, 1_000_000),
  // Optional so a client that predates it keeps the saved value; 1 ranks every model that battled.
  minBattlesRanked: wholeNumber(1, 1_000_000).optional(),
});
export type RatingSettingsInput = z.infer<typeof ratingSettingsInput>;

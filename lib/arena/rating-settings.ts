import { z } from "zod";
import { db } from "../db";
import { AppError } from "../errors";

export type RatingSettings = { anchorModelId: string | null; anchorRating: number; dedupThreshold: number; updatedAt: Date | null };

/** Until an admin saves settings: mean 1000 and FastChat-like de-duplication at 20 votes per prompt. */
const DEFAULTS: RatingSettings = { anchorModelId: null, anchorRating: 1000, dedupThreshold: 20, updatedAt: null };

export async function getRatingSettings(): Promise<RatingSettings> {
  const row = await db.ratingSettings.findUnique({ where: { id: 1 } });
  return row ? { anchorModelId: row.anchorModelId, anchorRating: row.anchorRating, dedupThreshold: row.dedupThreshold, updatedAt: row.updatedAt } : DEFAULTS;
}

export const ratingSettingsInput = z.object({
  anchorModelId: z.string().min(1).nullable(),
  anchorRating: z.number().finite().min(0).max(10_000),
  dedupThreshold: z.number().int().min(0).max(1_000_000),
});
export type RatingSettingsInput = z.infer<typeof ratingSettingsInput>;

/** Saves the settings (the next rating run uses them); the anchor must name an existing model. */
export async function saveRatingSettings(input: RatingSettingsInput): Promise<{ before: RatingSettings; after: RatingSettings }> {
  if (input.anchorModelId !== null && !(await db.model.findUnique({ where: { id: input.anchorModelId }, select: { id: true } }))) {
    throw new AppError("bad_request:anchor_model", "The anchor model does not exist.", { field: "anchorModelId" });
  }
  const before = await getRatingSettings();
  const row = await db.ratingSettings.upsert({ where: { id: 1 }, create: { id: 1, ...input }, update: input });
  return { before, after: { anchorModelId: row.anchorModelId, anchorRating: row.anchorRating, dedupThreshold: row.dedupThreshold, updatedAt: row.updatedAt } };
}

import { z } from "zod";
import { db } from "../db";
import { AppError } from "../errors";

export type RatingSettings = { anchorModelId: string | null; anchorRating: number; dedupThreshold: number; minBattlesRanked: number; updatedAt: Date | null };

/**
 * Until an admin saves settings: mean 1000, FastChat-like de-duplication at 20 votes per
 * prompt, and 20 battles before a model is ranked (below that an interval swings by hundreds).
 */
const DEFAULTS: RatingSettings = { anchorModelId: null, anchorRating: 1000, dedupThreshold: 20, minBattlesRanked: 20, updatedAt: null };

type Row = Omit<RatingSettings, "updatedAt"> & { updatedAt: Date };
const settingsOf = (row: Row): RatingSettings => ({
  anchorModelId: row.anchorModelId,
  anchorRating: row.anchorRating,
  dedupThreshold: row.dedupThreshold,
  minBattlesRanked: row.minBattlesRanked,
  updatedAt: row.updatedAt,
});

export async function getRatingSettings(): Promise<RatingSettings> {
  const row = await db.ratingSettings.findUnique({ where: { id: 1 } });
  return row ? settingsOf(row) : DEFAULTS;
}

export const ratingSettingsInput = z.object({
  anchorModelId: z.string().min(1).nullable(),
  anchorRating: z.number().finite().min(0).max(10_000),
  dedupThreshold: z.number().int().min(0).max(1_000_000),
  // Optional so a client that predates it keeps the saved value; 1 ranks every model that battled.
  minBattlesRanked: z.number().int().min(1).max(1_000_000).optional(),
});
export type RatingSettingsInput = z.infer<typeof ratingSettingsInput>;

/** Saves the settings (the next rating run uses them); the anchor must name an existing model. */
export async function saveRatingSettings(input: RatingSettingsInput): Promise<{ before: RatingSettings; after: RatingSettings }> {
  if (input.anchorModelId !== null && !(await db.model.findUnique({ where: { id: input.anchorModelId }, select: { id: true } }))) {
    throw new AppError("bad_request:anchor_model", "The anchor model does not exist.", { field: "anchorModelId" });
  }
  const before = await getRatingSettings();
  const data = { ...input, minBattlesRanked: input.minBattlesRanked ?? before.minBattlesRanked };
  const row = await db.ratingSettings.upsert({ where: { id: 1 }, create: { id: 1, ...data }, update: data });
  return { before, after: settingsOf(row) };
}

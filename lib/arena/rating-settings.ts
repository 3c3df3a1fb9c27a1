import { db } from "../db";
import { AppError } from "../errors";
import type { RatingSettingsInput } from "../schemas/rating-settings";

export { ratingSettingsInput, type RatingSettingsInput } from "../schemas/rating-settings";

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

/** Saves the settings (the next rating run uses them); the anchor must name an existing model. */
export async function saveRatingSettings(input: RatingSettingsInput): Promise<{ before: RatingSettings; after: RatingSettings }> {
  if (input.anchorModelId !== null && !(await db.model.findUnique({ where: { id: input.anchorModelId }, select: { id: true } }))) {
    throw new AppError("bad_request:anchor_model", { key: "anchorModelMissing" }, { field: "anchorModelId" });
  }
  const before = await getRatingSettings();
  const data = { ...input, minBattlesRanked: input.minBattlesRanked ?? before.minBattlesRanked };
  const row = await db.ratingSettings.upsert({ where: { id: 1 }, create: { id: 1, ...data }, update: data });
  return { before, after: settingsOf(row) };
}

-- Below this many battles in a scope a model is listed as provisional, without a rank.
ALTER TABLE "rating_settings" ADD COLUMN "minBattlesRanked" INTEGER NOT NULL DEFAULT 20;

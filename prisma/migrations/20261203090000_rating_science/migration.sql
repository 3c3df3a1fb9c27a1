-- Style control: each answer's style counts, computed once by the ratings job.
ALTER TABLE "generations" ADD COLUMN "styleCounts" JSONB;

-- Rating settings: the scale's anchor and live-prompt de-duplication (one row).
CREATE TABLE "rating_settings" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "anchorModelId" TEXT,
    "anchorRating" DOUBLE PRECISION NOT NULL DEFAULT 1000,
    "dedupThreshold" INTEGER NOT NULL DEFAULT 20,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "rating_settings_pkey" PRIMARY KEY ("id")
);

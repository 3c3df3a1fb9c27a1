-- Each start of a generation is an attempt. Its stream numbers messages after the attempt
-- base, so a retry after a Redis wipe is still seen as a restart by every viewer.
ALTER TABLE "generations" ADD COLUMN "attempt" INTEGER NOT NULL DEFAULT 0;

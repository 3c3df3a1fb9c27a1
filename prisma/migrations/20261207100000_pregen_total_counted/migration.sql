-- A run counts its generations when asked: a stored total drifted when a fan-out was cut short
-- or a run took over the unfinished answers of an earlier one.
ALTER TABLE "pregen_runs" DROP COLUMN "total";

-- How many votes (any validity) the run read: the reconciler compares it with the count now
ALTER TABLE "rating_runs" ADD COLUMN "votesSeen" INTEGER;

-- Matchmaking never serves a bank question whose answers the voter's IP has seen by name. A
-- named battle shows them without a vote, so battles are looked up by IP too.
CREATE INDEX "battles_ipHash_createdAt_idx" ON "battles"("ipHash", "createdAt");

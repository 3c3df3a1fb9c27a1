-- What a battle asked, as the question bank hashes text (normalised, sha256): a bank battle
-- takes its question hash, a live or named battle the hash of its first prompt. Reveals are
-- matched on it through an index instead of comparing whole texts.
ALTER TABLE "battles" ADD COLUMN "promptHash" TEXT;
UPDATE "battles" b SET "promptHash" = q."textHash" FROM "questions" q WHERE q.id = b."questionId";
-- Older live battles: the same normalisation in SQL (NFKC, lower case, whitespace collapsed, trailing punctuation dropped)
UPDATE "battles" SET "promptHash" = encode(sha256(convert_to(
    regexp_replace(btrim(regexp_replace(lower(normalize(prompt->0->>'content', NFKC)), '\s+', ' ', 'g')), '[\s.!?。！？…]+$', ''),
    'UTF8')), 'hex')
  WHERE "questionId" IS NULL AND jsonb_typeof(prompt) = 'array' AND prompt->0->>'content' IS NOT NULL;
CREATE INDEX "battles_promptHash_idx" ON "battles"("promptHash");

-- Until when a question was out of rotation with its answers shown under their models names:
-- answers finished before it are known and never served in a rated battle again.
ALTER TABLE "questions" ADD COLUMN "answersPublishedUntil" TIMESTAMP(3);

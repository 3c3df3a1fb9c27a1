import { sql } from "../sql";
import type { Voter } from "../voter-id";

// A bank question's answers are cached: every battle on it serves the same texts. Once a voter
// has seen them under their models' names, another battle on that question is no longer blind
// to them. Cookies cost nothing, so what a voter has seen is keyed on the voter key and on the
// IP: a second cookie from the same address inherits the first one's reveals.

/**
 * Whether a bank question's answers may be shown under their models' names to anyone: once it
 * is out of rated rotation (inactive), or always when the admin publishes them in rotation.
 */
export function bankAnswersPublished(question: { active: boolean }, settings: { publishAnswersInRotation: boolean }): boolean {
  return !question.active || settings.publishAnswersInRotation;
}

/**
 * Battles whose two models the voter key $1 or the IP hash $2 has seen by name, with their
 * question and first prompt: voted on (the vote reveals), or named mode (named from the start).
 * Each branch reads an index: battles (voterKey), votes (ipHash), battles (ipHash).
 */
export const REVEALED_BATTLES_SQL = `
  SELECT b.id, b."questionId", b.prompt->0->>'content' AS "firstPrompt" FROM battles b
   WHERE b."voterKey" = $1 AND (b.status = 'voted' OR b.mode = 'named')
  UNION ALL
  SELECT b.id, b."questionId", b.prompt->0->>'content' FROM votes v JOIN battles b ON b.id = v."battleId"
   WHERE v."ipHash" = $2
  UNION ALL
  SELECT b.id, b."questionId", b.prompt->0->>'content' FROM battles b
   WHERE b."ipHash" = $2 AND b.mode = 'named'`;

/**
 * The questions those battles showed cached answers of (a CTE named `revealed` must hold
 * REVEALED_BATTLES_SQL): their own question, or a question whose text was a live battle's first
 * prompt word for word — greedy or seeded engines answer it with the cached text.
 */
export const REVEALED_QUESTIONS_SQL = `
  SELECT r."questionId" AS id FROM revealed r WHERE r."questionId" IS NOT NULL
  UNION
  SELECT q.id FROM revealed r JOIN questions q ON q.text = r."firstPrompt" WHERE r."questionId" IS NULL`;

/**
 * Whether this bank battle's cached answers were no longer blind to its voter at the vote: the
 * voter key or IP had seen another battle on its question by name, or the question left rated
 * rotation meanwhile (its answers are then published with their models' names). Matchmaking
 * never serves a question already seen; this catches the rest, such as two battles on one
 * question opened side by side and the second voted after the first's reveal.
 */
export async function bankBattleUnblinded({ battleId, voter }: { battleId: string; voter: Voter }): Promise<boolean> {
  const { rows } = await sql().query<{ unblinded: boolean }>({
    name: "vote:bank-unblinded",
    values: [voter.voterKey, voter.ipHash, battleId],
    text: `
      WITH revealed AS (${REVEALED_BATTLES_SQL}),
      this AS (SELECT q.id, q.text, q.active FROM battles b JOIN questions q ON q.id = b."questionId" WHERE b.id = $3)
      SELECT EXISTS (SELECT 1 FROM this WHERE NOT this.active) OR EXISTS (
        SELECT 1 FROM revealed r, this
        WHERE r.id <> $3 AND (r."questionId" = this.id OR (r."questionId" IS NULL AND r."firstPrompt" = this.text))
      ) AS unblinded`,
  });
  return rows[0]?.unblinded ?? false;
}

import { sql } from "../sql";
import type { Voter } from "../voter-id";
import type { ArenaSettings } from "./arena-settings";

// A bank question's answers are cached: every battle on it serves the same texts, and greedy or
// seeded engines answer a live prompt with the same text every time. Once a voter has seen the
// answers to some text under their models' names, another battle on that text is no longer
// blind to them. What was asked is matched by its hash (battles.promptHash: the bank's
// normalised question hash, for live prompts too). Cookies cost nothing, so what a voter has
// seen is keyed on the voter key and on the IP: a second cookie from the same address inherits
// the first one's reveals.

/**
 * Whether a bank question's answers may be shown under their models' names to anyone: once it
 * is out of rated rotation (inactive), or always when the admin publishes them in rotation.
 */
export function bankAnswersPublished(question: { active: boolean }, settings: { publishAnswersInRotation: boolean }): boolean {
  return !question.active || settings.publishAnswersInRotation;
}

/**
 * Battles whose two models the voter key $1 or the IP hash $2 has seen by name, with their
 * question and prompt hash: voted on (the vote reveals), or named mode (named from the start).
 * Each branch reads an index: battles (voterKey), votes (ipHash), battles (ipHash).
 */
export const REVEALED_BATTLES_SQL = `
  SELECT b.id, b."questionId", b."promptHash" FROM battles b
   WHERE b."voterKey" = $1 AND (b.status = 'voted' OR b.mode = 'named')
  UNION ALL
  SELECT b.id, b."questionId", b."promptHash" FROM votes v JOIN battles b ON b.id = v."battleId"
   WHERE v."ipHash" = $2
  UNION ALL
  SELECT b.id, b."questionId", b."promptHash" FROM battles b
   WHERE b."ipHash" = $2 AND b.mode = 'named'`;

/**
 * The questions whose cached answers those battles showed (a CTE named `revealed` must hold
 * REVEALED_BATTLES_SQL): their own question, or the question a live battle's first prompt
 * asked again (the unique index on questions.textHash).
 */
export const REVEALED_QUESTIONS_SQL = `
  SELECT r."questionId" AS id FROM revealed r WHERE r."questionId" IS NOT NULL
  UNION
  SELECT q.id FROM questions q WHERE q."textHash" IN (SELECT r."promptHash" FROM revealed r WHERE r."promptHash" IS NOT NULL)`;

/**
 * Questions whose text a voted live or named battle asked, shown to everyone while the admin
 * publishes live prompts ($5: publishLivePrompts): their answers are on the model pages.
 */
export const PUBLISHED_PROMPT_QUESTIONS_SQL = `
  SELECT q.id FROM questions q
  WHERE $5::boolean AND EXISTS (
    SELECT 1 FROM battles o WHERE o."promptHash" = q."textHash" AND o."questionId" IS NULL AND o.status = 'voted')`;

/**
 * A bank answer whose text was shown under a model's name while its question was out of rotation
 * (g: the generation, q: its question): never served in a rated battle again. By text, not by
 * row: a greedy model asked again answers the same text. A multi-turn question's answers are
 * compared turn by turn (each turn of a battle's chain is checked: battles.ts).
 */
export const KNOWN_ANSWER_SQL = `(q."answersPublishedUntil" IS NOT NULL AND EXISTS (
  SELECT 1 FROM generations p
  WHERE p."questionId" = q.id AND p.status = 'completed' AND p."finishedAt" <= q."answersPublishedUntil" AND p.turn = g.turn AND p.text = g.text))`;

/**
 * The generation g answers the last user turn of its question q: a multi-turn question's answer
 * counts (is drawn, exported) only by its last turn, which completes only after every earlier one.
 */
export const LAST_TURN_SQL = `g.turn = (CASE WHEN jsonb_typeof(q.turns) = 'array' THEN jsonb_array_length(q.turns) ELSE 1 END) - 1`;

/**
 * Whether this battle's answers were no longer blind to its voter at the vote. Stored but never
 * rated then. Any of:
 * - its bank question left rotation meanwhile (the answers are published), or an answer it
 *   serves was published before the question came back into rotation;
 * - the voter key or IP saw another battle on the same question or text by name;
 * - a live prompt asks a question whose answers are published;
 * - while live prompts are published, another voted battle's published prompt was the same text.
 * Matchmaking never serves a bank question already seen; this catches the rest, such as two
 * battles on one question opened side by side and the second voted after the first's reveal,
 * and every live battle (its prompt is the voter's to choose).
 */
export async function battleUnblinded({ battleId, voter, settings }: {
  battleId: string;
  voter: Voter;
  settings: Pick<ArenaSettings, "publishAnswersInRotation" | "publishLivePrompts">;
}): Promise<boolean> {
  const { rows } = await sql().query<{ unblinded: boolean }>({
    name: "vote:unblinded",
    values: [voter.voterKey, voter.ipHash, battleId, settings.publishAnswersInRotation, settings.publishLivePrompts],
    text: `
      WITH revealed AS (${REVEALED_BATTLES_SQL}),
      this AS (
        SELECT b.id, b."questionId", b."promptHash", q.active, q."answersPublishedUntil"
        FROM battles b LEFT JOIN questions q ON q.id = b."questionId" WHERE b.id = $3)
      SELECT
        EXISTS (SELECT 1 FROM this WHERE this."questionId" IS NOT NULL AND NOT this.active)
        OR EXISTS (
          SELECT 1 FROM this JOIN questions q ON q.id = this."questionId"
            JOIN battle_generations bg ON bg."battleId" = this.id JOIN generations g ON g.id = bg."generationId"
          WHERE ${KNOWN_ANSWER_SQL})
        OR EXISTS (
          SELECT 1 FROM revealed r, this
          WHERE r.id <> this.id AND (r."questionId" = this."questionId" OR r."promptHash" = this."promptHash"))
        OR EXISTS (
          SELECT 1 FROM this JOIN questions q ON q."textHash" = this."promptHash"
          WHERE this."questionId" IS NULL AND (NOT q.active OR $4::boolean OR q."answersPublishedUntil" IS NOT NULL))
        OR ($5::boolean AND EXISTS (
          SELECT 1 FROM this JOIN battles o ON o."promptHash" = this."promptHash"
          WHERE o.id <> this.id AND o."questionId" IS NULL AND o.status = 'voted'))
        AS unblinded`,
  });
  return rows[0]?.unblinded ?? false;
}

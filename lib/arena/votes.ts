import { randomUUID } from "node:crypto";
import type { VoteWinner } from "@prisma/client";
import { z } from "zod";
import { db } from "../db";
import { env } from "../env";
import { errors } from "../errors";
import { sql } from "../sql";
import type { Voter } from "../voter-id";
import type { RevealedModel } from "./battle-view";
import { revealedIdentity } from "./identity";
import { enforceRateLimit } from "./rate-limit";
import { getArenaSettings } from "./arena-settings";
import { battleUnblinded } from "./revealed-questions";
import { scheduleRatingsRecompute } from "./ratings-job";

/** The body of POST /api/battles/{id}/vote, for both the Next.js handler and the fast path. */
export const voteInput = z.object({
  winner: z.enum(["A", "B", "tie", "both_bad"]),
  reason: z.string().trim().max(280, "tooLong").optional(),
});

export type VoteResult = {
  battleId: string;
  winner: VoteWinner;
  valid: boolean;
  rated: boolean;
  reveal: { A: RevealedModel; B: RevealedModel };
};

type VoteModel = { slug: string; displayName: string; organisation: string };
type BattleForVote = {
  voterKey: string;
  mode: string;
  status: string;
  categoryId: string | null;
  modelAId: string;
  modelBId: string;
  modelA: VoteModel;
  modelB: VoteModel;
  vote: { winner: VoteWinner; voterKey: string; valid: boolean; rated: boolean } | null;
  generations: { side: "A" | "B"; turn: number; status: string; text: string }[];
};

/** Everything a vote needs in one round trip (the vote endpoint is the hottest path). */
async function loadBattleForVote(battleId: string): Promise<BattleForVote | null> {
  const { rows } = await sql().query<BattleForVote>({ name: "vote:load", values: [battleId], text: `
    SELECT b."voterKey", b.mode::text AS mode, b.status::text AS status, b."categoryId", b."modelAId", b."modelBId",
           json_build_object('slug', ma.slug, 'displayName', ma."displayName", 'organisation', ma.organisation) AS "modelA",
           json_build_object('slug', mb.slug, 'displayName', mb."displayName", 'organisation', mb.organisation) AS "modelB",
           CASE WHEN v.id IS NULL THEN NULL ELSE json_build_object('winner', v.winner, 'voterKey', v."voterKey", 'valid', v.valid, 'rated', v.rated) END AS vote,
           COALESCE((SELECT json_agg(json_build_object('side', bg.side, 'turn', bg.turn, 'status', g.status, 'text', g.text))
                     FROM battle_generations bg JOIN generations g ON g.id = bg."generationId" WHERE bg."battleId" = b.id), '[]'::json) AS generations
    FROM battles b
    JOIN models ma ON ma.id = b."modelAId"
    JOIN models mb ON mb.id = b."modelBId"
    LEFT JOIN votes v ON v."battleId" = b.id
    WHERE b.id = $1` });
  return rows[0] ?? null;
}

export async function castVote({ battleId, voter, winner, reason }: {
  battleId: string;
  voter: Voter;
  winner: VoteWinner;
  reason?: string | null;
}): Promise<VoteResult> {
  const config = env();
  await enforceRateLimit({
    surface: "vote",
    windowS: config.LEITAI_VOTE_LIMIT_WINDOW_S,
    keys: [
      { key: `voter:${voter.voterKey}`, limit: config.LEITAI_VOTE_LIMIT_PER_VOTER },
      { key: `ip:${voter.ipHash}`, limit: config.LEITAI_VOTE_LIMIT_PER_IP },
    ],
  });

  const battle = await loadBattleForVote(battleId);
  if (!battle) throw errors.notFound("battle", { key: "battleNotFound" });
  if (battle.voterKey !== voter.voterKey) throw errors.forbidden("vote", { key: "voteNotYours" });
  const reveal = {
    A: { slug: battle.modelA.slug, displayName: battle.modelA.displayName, organisation: battle.modelA.organisation },
    B: { slug: battle.modelB.slug, displayName: battle.modelB.displayName, organisation: battle.modelB.organisation },
  };
  if (battle.vote) return sameVoteOrConflict(battle.vote, winner, battleId, reveal);
  // The voter left it for a new battle (even with both answers complete): never rated.
  if (battle.status === "abandoned") {
    throw errors.conflict("vote", { key: "voteAbandoned" });
  }

  const lastTurn = Math.max(...battle.generations.map((g) => g.turn));
  const latest = battle.generations.filter((g) => g.turn === lastTurn);
  // Every turn: a bank battle on a multi-turn question links all its turns at once.
  if (latest.length < 2 || battle.generations.some((g) => g.status !== "completed")) {
    throw errors.conflict("vote", { key: "voteIncomplete" });
  }

  // An answer that names its own model (or maker) un-blinds the battle.
  let invalidReason: string | null = null;
  for (const g of battle.generations) {
    const model = g.side === "A" ? battle.modelA : battle.modelB;
    const word = revealedIdentity(g.text, model);
    if (word) {
      invalidReason = `answer ${g.side} reveals an identity ("${word}")`;
      break;
    }
  }
  // A battle whose answers this voter key or IP had already seen named, or that are published
  // (revealed-questions.ts), was not blind: the vote is kept, never rated. The settings are read
  // fresh: a vote is judged once, and an admin who just started publishing must not wait.
  const settings = await getArenaSettings({ fresh: true });
  const rated = battle.mode !== "named" && !(await battleUnblinded({ battleId, voter, settings }));
  const valid = invalidReason === null;

  // One statement: insert the vote and mark the battle voted. ON CONFLICT makes a racing
  // duplicate a no-op that we then resolve below. The online Elo is not moved here: updating
  // the two model rows would hold their locks through the commit's WAL flush, so every vote
  // on those models queued behind the previous one's fsync (p99 ≈ 200 ms at 500 votes/s,
  // bench/vote-load.sh). The ratings job, debounced a few seconds after votes, recomputes it
  // in vote order and stores it on the models.
  // The battle row is locked and must still be open with these two models: a vote racing an
  // abandon, or a re-roll that swapped a side, finds nothing to vote on (409 below).
  const { rows: inserted } = await sql().query<{ id: string }>({ name: "vote:insert-open", text: `
    WITH open AS (
      SELECT id FROM battles
      WHERE id = $2 AND status IN ('pending', 'ready') AND "modelAId" = $11 AND "modelBId" = $12
      FOR UPDATE
    ), ins AS (
      INSERT INTO votes (id, "battleId", winner, reason, "voterKey", "userId", "ipHash", rated, valid, "invalidReason",
                         "modelAId", "modelBId", "categoryId", "createdAt")
      SELECT $1::text, $2::text, $3::"VoteWinner", $4::text, $5::text, $6::text,
             $7::text, $8::boolean, $9::boolean, $10::text, $11::text, $12::text, $13::text, now()
      FROM open
      ON CONFLICT ("battleId") DO NOTHING
      RETURNING id
    ), voted AS (
      UPDATE battles SET status = 'voted', "updatedAt" = now() WHERE id = $2 AND EXISTS (SELECT 1 FROM ins)
    )
    SELECT id FROM ins`,
    values: [randomUUID(), battleId, winner, reason ?? null, voter.voterKey, voter.userId, voter.ipHash, rated, valid, invalidReason,
      battle.modelAId, battle.modelBId, battle.categoryId],
  });

  if (inserted.length === 0) {
    const existing = await db.vote.findUnique({ where: { battleId }, select: { winner: true, voterKey: true, valid: true, rated: true } });
    if (existing) return sameVoteOrConflict(existing, winner, battleId, reveal);
    throw errors.conflict("vote", { key: "voteChanged" });
  }
  // The vote is stored: it never waits on (or fails with) the ratings queue, so it is not
  // awaited; a recompute that could not be queued is owed by the reconciler (reconcileRatings).
  if (rated && valid) void scheduleRatingsRecompute();
  return { battleId, winner, valid, rated, reveal };
}

/** A retry of the same vote gets the same answer; a different second vote is a conflict. */
function sameVoteOrConflict(
  existing: { winner: VoteWinner; voterKey: string; valid: boolean; rated: boolean },
  winner: VoteWinner,
  battleId: string,
  reveal: VoteResult["reveal"],
): VoteResult {
  if (existing.winner !== winner) throw errors.conflict("vote", { key: "battleVoted" });
  return { battleId, winner, valid: existing.valid, rated: existing.rated, reveal };
}

import type { GenerationStatus, Side, VoteWinner } from "@prisma/client";
import { db } from "../db";
import { errors } from "../errors";
import { isGenerationStalled } from "../pipeline/events";
import { userTurnsOf } from "../question-turns";
import type { Voter } from "../voter-id";
import { getArenaSettings } from "./arena-settings";
import { isBattlePublished } from "./publication";
import { bankAnswersPublished } from "./revealed-questions";

/**
 * `error`: why the side has no answer, in words that cannot name the model. `stalled`: its
 * stream stopped advancing (it may still finish; a reload shows it then).
 */
export type SideView = { status: GenerationStatus; text: string; error: string | null; stalled: boolean };
export type TurnView = { turn: number; prompt: string; sides: Record<Side, SideView> };
export type RevealedModel = { slug: string; displayName: string; organisation: string };

/**
 * What a voter may see of a battle. Before the vote it carries no model identity at all:
 * no id, slug, name or generation id — only sides A and B and their texts.
 */
export type BattleView = {
  id: string;
  mode: "bank" | "live" | "named";
  status: string;
  question: { id: string; text: string; categoryZh: string; categoryEn: string } | null;
  turns: TurnView[];
  complete: boolean;
  vote: { winner: VoteWinner; reason: string | null; valid: boolean } | null;
  reveal: Record<Side, RevealedModel> | null;
  /**
   * The latest turn's sides that failed for good (or stalled) in an open battle: the voter may
   * re-roll each (POST /api/battles/{id}/reroll) or take a new battle.
   */
  stuck: Side[];
};

// Engine errors are detail that could name the model (a URL, a remote model name): the voter
// gets one of these generic lines.
const SIDE_FAILED = "This answer failed to generate.";
const SIDE_STOPPED = "This answer was stopped.";
const SIDE_STALLED = "This answer stopped arriving.";

const revealFields = { slug: true, displayName: true, organisation: true } as const;

export async function getBattleView({ battleId, voter }: { battleId: string; voter: Voter | null }): Promise<BattleView> {
  const battle = await db.battle.findUnique({
    where: { id: battleId },
    include: {
      question: { select: { id: true, text: true, turns: true, active: true, category: { select: { nameZh: true, nameEn: true } } } },
      generations: {
        orderBy: [{ turn: "asc" }, { side: "asc" }],
        include: { generation: { select: { id: true, status: true, text: true } } },
      },
      vote: { select: { winner: true, reason: true, valid: true } },
      modelA: { select: revealFields },
      modelB: { select: revealFields },
    },
  });
  if (!battle) throw errors.notFound("battle", { key: "battleNotFound" });
  // Named battles are chosen by the voter, so their identities are no secret.
  const revealed = battle.vote !== null || battle.mode === "named";
  if (!revealed && battle.voterKey !== voter?.voterKey) throw errors.forbidden("battle", { key: "battleNotYours" });
  if (battle.voterKey !== voter?.voterKey) {
    const settings = await getArenaSettings();
    // A bank question's cached answers under their models' names would unblind every later
    // battle on it: another voter sees them only once they are published (revealed-questions.ts).
    // A voter's own prompt reaches other voters only while live prompts are published (publication.ts).
    if ((battle.question && !bankAnswersPublished(battle.question, settings)) || !isBattlePublished(battle, settings)) {
      throw errors.forbidden("battle", { key: "battleNotYours" });
    }
  }

  // A bank question's user turns (every one of a multi-turn question), or the voter's own prompts.
  const prompts = (battle.prompt as { content: string }[] | null)?.map((p) => p.content) ?? (battle.question ? userTurnsOf(battle.question) : [""]);
  const open = battle.vote === null && (battle.status === "pending" || battle.status === "ready");
  const turns: TurnView[] = [];
  for (const link of battle.generations) {
    let turn = turns.find((t) => t.turn === link.turn);
    if (!turn) {
      turn = { turn: link.turn, prompt: prompts[link.turn] ?? "", sides: {} as Record<Side, SideView> };
      turns.push(turn);
    }
    const { status, text } = link.generation;
    const unfinished = status === "queued" || status === "running";
    // Redis away: the view still loads, without stall news (the stream itself reports it).
    const stalled = unfinished && open && (await isGenerationStalled(link.generation.id).catch(() => false));
    turn.sides[link.side] = {
      status,
      text,
      error: status === "failed" ? SIDE_FAILED : status === "cancelled" ? SIDE_STOPPED : stalled ? SIDE_STALLED : null,
      stalled,
    };
  }
  const last = turns[turns.length - 1];
  // Every turn of both sides: a bank battle on a multi-turn question shows all its turns at once.
  const complete = !!last && turns.every((t) => t.sides.A?.status === "completed" && t.sides.B?.status === "completed");
  const stuck = open && last
    ? (["A", "B"] as Side[]).filter((s) => ["failed", "cancelled"].includes(last.sides[s]?.status ?? "") || last.sides[s]?.stalled)
    : [];
  return {
    id: battle.id,
    mode: battle.mode,
    status: battle.status,
    question: battle.question
      ? { id: battle.question.id, text: battle.question.text, categoryZh: battle.question.category.nameZh, categoryEn: battle.question.category.nameEn }
      : null,
    turns,
    complete,
    vote: battle.vote,
    reveal: revealed ? { A: battle.modelA, B: battle.modelB } : null,
    stuck,
  };
}

/** The generation behind one side of one turn, for the battle's own voter (streaming). */
export async function getBattleSideGeneration({ battleId, voter, side, turn }: {
  battleId: string;
  voter: Voter | null;
  side: Side;
  turn: number;
}): Promise<string> {
  const link = await db.battleGeneration.findUnique({
    where: { battleId_side_turn: { battleId, side, turn } },
    include: { battle: { select: { voterKey: true } } },
  });
  if (!link) throw errors.notFound("battle", { key: "battleNotFound" });
  if (link.battle.voterKey !== voter?.voterKey) throw errors.forbidden("battle", { key: "battleNotYours" });
  return link.generationId;
}

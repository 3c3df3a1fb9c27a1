import type { GenerationStatus, Side, VoteWinner } from "@prisma/client";
import { db } from "../db";
import { errors } from "../errors";
import type { Voter } from "../voter-id";

export type SideView = { status: GenerationStatus; text: string; error: string | null };
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
};

const revealFields = { slug: true, displayName: true, organisation: true } as const;

export async function getBattleView({ battleId, voter }: { battleId: string; voter: Voter | null }): Promise<BattleView> {
  const battle = await db.battle.findUnique({
    where: { id: battleId },
    include: {
      question: { select: { id: true, text: true, category: { select: { nameZh: true, nameEn: true } } } },
      generations: {
        orderBy: [{ turn: "asc" }, { side: "asc" }],
        include: { generation: { select: { status: true, text: true, error: true } } },
      },
      vote: { select: { winner: true, reason: true, valid: true } },
      modelA: { select: revealFields },
      modelB: { select: revealFields },
    },
  });
  if (!battle) throw errors.notFound("battle");
  // Named battles are chosen by the voter, so their identities are no secret.
  const revealed = battle.vote !== null || battle.mode === "named";
  if (!revealed && battle.voterKey !== voter?.voterKey) throw errors.forbidden("battle", "This battle belongs to another voter.");

  const prompts = (battle.prompt as { content: string }[] | null)?.map((p) => p.content) ?? [battle.question?.text ?? ""];
  const turns: TurnView[] = [];
  for (const link of battle.generations) {
    let turn = turns.find((t) => t.turn === link.turn);
    if (!turn) {
      turn = { turn: link.turn, prompt: prompts[link.turn] ?? "", sides: {} as Record<Side, SideView> };
      turns.push(turn);
    }
    // Errors are engine-side detail that could name the model; the voter gets a generic line.
    turn.sides[link.side] = {
      status: link.generation.status,
      text: link.generation.text,
      error: link.generation.status === "failed" ? "This answer failed to generate." : null,
    };
  }
  const last = turns[turns.length - 1];
  const complete = !!last && last.sides.A?.status === "completed" && last.sides.B?.status === "completed";
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
  if (!link) throw errors.notFound("battle");
  if (link.battle.voterKey !== voter?.voterKey) throw errors.forbidden("battle", "This battle belongs to another voter.");
  return link.generationId;
}

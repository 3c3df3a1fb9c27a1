import { createHash } from "node:crypto";
import type { VoteWinner } from "@prisma/client";
import { db } from "../db";
import { env } from "../env";
import { getArenaSettings } from "./arena-settings";
import { isBattlePublished } from "./publication";

// FastChat's clean-battle layout, one JSON object per line.
export type FastChatMessage = { role: "user" | "assistant"; content: string };
export type FastChatBattle = {
  question_id: string;
  model_a: string;
  model_b: string;
  winner: "model_a" | "model_b" | "tie" | "tie (bothbad)";
  judge: string;
  turn: number;
  anony: boolean;
  language: string;
  tstamp: number;
  conversation_a: FastChatMessage[];
  conversation_b: FastChatMessage[];
  /** Leitai's addition: whether this battle's prompt and answers are shown on the public pages at export time. */
  published?: boolean;
};

export const WINNER_TO_FASTCHAT: Record<VoteWinner, FastChatBattle["winner"]> = {
  A: "model_a", B: "model_b", tie: "tie", both_bad: "tie (bothbad)",
};
const LANGUAGE_NAMES: Record<string, string> = { zh: "Chinese", en: "English" };
export const IMPORT_VOTER_PREFIX = "import:";

/** Voters appear as stable pseudonyms; an imported judge keeps the name it came with. */
export function anonymiseJudge(voterKey: string): string {
  if (voterKey.startsWith(IMPORT_VOTER_PREFIX)) return voterKey.slice(IMPORT_VOTER_PREFIX.length);
  return `arena_user_${createHash("sha256").update(`${env().LEITAI_SECRET}:judge:${voterKey}`).digest("hex").slice(0, 16)}`;
}

/**
 * Every voted battle (valid votes only unless asked) in vote order, as FastChat rows, each saying
 * whether its prompt is published (a voter's own prompt only while the admin publishes live prompts).
 */
export async function* exportBattles({ includeInvalid = false }: { includeInvalid?: boolean } = {}): AsyncGenerator<FastChatBattle> {
  const pageSize = 500;
  const settings = await getArenaSettings({ fresh: true });
  let cursor: { createdAt: Date; id: string } | null = null;
  for (;;) {
    const votes: { id: string; createdAt: Date; winner: VoteWinner; voterKey: string; battleId: string }[] = await db.vote.findMany({
      where: {
        ...(includeInvalid ? {} : { valid: true }),
        ...(cursor ? { OR: [{ createdAt: { gt: cursor.createdAt } }, { createdAt: cursor.createdAt, id: { gt: cursor.id } }] } : {}),
      },
      orderBy: [{ createdAt: "asc" }, { id: "asc" }],
      take: pageSize,
      select: { id: true, createdAt: true, winner: true, voterKey: true, battleId: true },
    });
    if (votes.length === 0) return;
    const battles = await db.battle.findMany({
      where: { id: { in: votes.map((v) => v.battleId) } },
      include: {
        question: { select: { text: true } },
        modelA: { select: { slug: true } },
        modelB: { select: { slug: true } },
        generations: { orderBy: { turn: "asc" }, include: { generation: { select: { text: true } } } },
      },
    });
    const byId = new Map(battles.map((b) => [b.id, b]));
    for (const vote of votes) {
      const b = byId.get(vote.battleId)!;
      const prompts = (b.prompt as { content: string }[] | null)?.map((p) => p.content) ?? [b.question?.text ?? ""];
      const conversation = (side: "A" | "B") =>
        prompts.flatMap((content, turn): FastChatMessage[] => [
          { role: "user", content },
          { role: "assistant", content: b.generations.find((g) => g.side === side && g.turn === turn)?.generation.text ?? "" },
        ]);
      yield {
        question_id: b.id,
        model_a: b.modelA.slug,
        model_b: b.modelB.slug,
        winner: WINNER_TO_FASTCHAT[vote.winner],
        judge: anonymiseJudge(vote.voterKey),
        turn: prompts.length,
        anony: b.mode !== "named",
        language: LANGUAGE_NAMES[b.language ?? ""] ?? b.language ?? "unknown",
        tstamp: vote.createdAt.getTime() / 1000,
        conversation_a: conversation("A"),
        conversation_b: conversation("B"),
        published: isBattlePublished(b, settings),
      };
    }
    const last = votes[votes.length - 1]!;
    cursor = { createdAt: last.createdAt, id: last.id };
  }
}

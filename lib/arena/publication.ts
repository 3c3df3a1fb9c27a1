import { Prisma } from "@prisma/client";
import { getArenaSettings, type ArenaSettings } from "./arena-settings";

// Whether a voted battle's prompt and answers may appear to anyone but its own voter. A battle
// without a bank question carries a voter's own text (a live or named battle's prompt, or an
// imported battle's): it is public only while the admin publishes live prompts (/admin/settings,
// off by default). Bank battles ask the arena's own questions; what their answers show is
// decided elsewhere (browse.ts).

/** A battle whose prompt a voter typed (a battle on a bank question with turns of its own included). */
export function hasVoterPrompt(battle: { questionId: string | null; prompt?: unknown }): boolean {
  return battle.questionId === null || (battle.prompt !== undefined && battle.prompt !== null);
}

/** The rule for one battle, with the settings in force. */
export function isBattlePublished(battle: { questionId: string | null; prompt?: unknown }, settings: Pick<ArenaSettings, "publishLivePrompts">): boolean {
  return !hasVoterPrompt(battle) || settings.publishLivePrompts;
}

/** The same rule as a filter for public lists of battles (a model's page, head to head). */
export async function publishedBattlesWhere(): Promise<Prisma.BattleWhereInput> {
  const { publishLivePrompts } = await getArenaSettings();
  return publishLivePrompts ? {} : { questionId: { not: null }, prompt: { equals: Prisma.DbNull } };
}

import type { Side } from "@prisma/client";
import { db } from "../db";
import { errors } from "../errors";
import { cancelGeneration, createGeneration, enqueueGeneration } from "../generations";
import { generationParamsOf } from "../models/engine";
import type { ChatMessage, GenerationParams } from "../pipeline/contracts";
import { isGenerationStalled } from "../pipeline/events";
import type { Voter } from "../voter-id";
import type { ErrorKey } from "../i18n";
import { getArenaSettings } from "./arena-settings";
import { belowLiveCap, modelsBusy } from "./live-capacity";
import { drawOne, drawWeight, type Contender } from "./matchmaking";
import { healthyModelIds } from "./model-health";
import { listContenders } from "./models";
import { enforceRateLimit } from "./rate-limit";

// Re-rolling one side of a battle whose answer failed for good or stalled: a fresh generation
// of the same conversation takes that side's place, and the voter can vote once it completes.

/**
 * Each re-roll costs a whole answer: a few per battle, a handful per voter, more per IP (many
 * voters may share one). A side that keeps failing is better left for a new battle.
 */
export const REROLL_LIMITS = { windowS: 300, perBattle: 4, perVoter: 10, perIp: 100 } as const;

export type RerollTarget = "failed" | "stalled";

/**
 * Whether a side may be re-rolled, and why not (the refusal's catalogue key). Pure: the caller
 * has loaded the battle and asked the stream whether an unfinished answer stalled.
 */
export function rerollRefusal({ battleStatus, voted, isLastTurn, sideStatus, stalled }: {
  battleStatus: string;
  voted: boolean;
  isLastTurn: boolean;
  sideStatus: string;
  stalled: boolean;
}): ErrorKey | null {
  if (voted || battleStatus === "voted") return "battleVoted";
  if (battleStatus === "abandoned") return "rerollAbandoned";
  if (!isLastTurn) return "rerollNotLast";
  if (sideStatus === "completed") return "rerollComplete";
  if ((sideStatus === "queued" || sideStatus === "running") && !stalled) return "rerollArriving";
  return null;
}

/**
 * The model for a re-rolled first turn: drawn by weight like matchmaking does, never the other
 * side's model (a battle is between two models), and not the model that just failed unless no
 * other is available. null when no model at all can take the side.
 */
export function pickRerollModel<T extends Contender>(
  contenders: readonly T[],
  { failedId, rivalId }: { failedId: string; rivalId: string },
  random: () => number = Math.random,
): T | null {
  const eligible = contenders.filter((c) => c.id !== rivalId && drawWeight(c) > 0);
  const others = eligible.filter((c) => c.id !== failedId);
  if (others.length) return drawOne(others, random);
  return eligible.find((c) => c.id === failedId) ?? null;
}

/**
 * Replaces the answer of `side` at `turn` with a fresh generation. Only the battle's own voter,
 * only before the vote, only for the latest turn's side that failed (or was cancelled) or whose
 * stream stalled. Returns what the voter may know: the side and turn, nothing of the model.
 */
export async function rerollBattleSide({ battleId, voter, side, turn }: {
  battleId: string;
  voter: Voter;
  side: Side;
  turn: number;
}): Promise<{ side: Side; turn: number }> {
  const battle = await db.battle.findUnique({
    where: { id: battleId },
    select: {
      voterKey: true, status: true, mode: true, modelAId: true, modelBId: true,
      vote: { select: { id: true } },
      generations: {
        select: {
          side: true, turn: true,
          generation: { select: { id: true, status: true, modelId: true, messages: true, params: true } },
        },
      },
    },
  });
  if (!battle) throw errors.notFound("battle", { key: "battleNotFound" });
  if (battle.voterKey !== voter.voterKey) throw errors.forbidden("battle", { key: "battleNotYours" });
  // Counted after the ownership check, so no one else can spend this battle's re-rolls.
  await enforceRateLimit({
    surface: "reroll",
    windowS: REROLL_LIMITS.windowS,
    keys: [
      { key: `battle:${battleId}`, limit: REROLL_LIMITS.perBattle },
      { key: `voter:${voter.voterKey}`, limit: REROLL_LIMITS.perVoter },
      { key: `ip:${voter.ipHash}`, limit: REROLL_LIMITS.perIp },
    ],
  });
  const link = battle.generations.find((g) => g.side === side && g.turn === turn);
  if (!link) throw errors.badRequest("reroll", { key: "rerollNoTurn", values: { n: turn } }, "turn");
  const old = link.generation;
  const lastTurn = Math.max(...battle.generations.map((g) => g.turn));
  const unfinished = old.status === "queued" || old.status === "running";
  const refusal = rerollRefusal({
    battleStatus: battle.status,
    voted: battle.vote !== null,
    isLastTurn: turn === lastTurn,
    sideStatus: old.status,
    stalled: unfinished && (await isGenerationStalled(old.id)),
  });
  if (refusal) throw errors.conflict("reroll", { key: refusal });

  // Which model answers the re-roll. On the first turn of a drawn battle (live or bank) a new
  // model is drawn, preferring one other than the model that just failed: a failure for good
  // usually means that model's engine is down or cannot take this prompt, so the same model
  // would most likely fail again. Blindness holds either way: the voter learns only that the
  // side is being answered again, never by whom, and cannot choose (a re-roll is refused for
  // an answer that completed, so no one can fish for a model). A later turn keeps its model,
  // because that side's earlier answers in the conversation are that model's; a named battle
  // keeps the models the voter picked.
  const rivalId = side === "A" ? battle.modelBId : battle.modelAId;
  let modelId = old.modelId;
  let params = old.params as unknown as GenerationParams;
  if (turn === 0 && battle.mode !== "named") {
    const healthy = await healthyModelIds();
    const contenders = (await listContenders()).filter((c) => c.model.kind !== "offline" && healthy.has(c.id));
    const picked = pickRerollModel(contenders, { failedId: old.modelId, rivalId });
    if (!picked) {
      throw errors.conflict("matchmaking", { key: "noSpareModel" });
    }
    if (picked.id !== old.modelId) {
      modelId = picked.id;
      params = generationParamsOf(picked.model.generationDefaults);
    }
  }

  // A re-roll is another live answer: it waits for room under the model's cap like a new battle.
  const { liveInFlightPerModel } = await getArenaSettings();
  const lane = battle.mode === "named" ? "named" : "drawn";
  if (!(await belowLiveCap([{ id: modelId }], liveInFlightPerModel, lane)).length) throw modelsBusy();

  // The same conversation this side was asked (for a live battle, the voter's prompt).
  // Created, swapped in, then enqueued (as a new side is): a re-roll that loses a race leaves
  // a row that never ran, not a job that spends an engine on nobody.
  const fresh = await createGeneration({ modelId, purpose: "live", messages: old.messages as unknown as ChatMessage[], params });
  try {
    await db.$transaction(async (tx) => {
      // Both conditional: a concurrent re-roll of the same side, or the battle being voted on
      // or abandoned meanwhile, leaves this one with nothing to replace.
      const swapped = await tx.battleGeneration.updateMany({
        where: { battleId, side, turn, generationId: old.id },
        data: { generationId: fresh.id },
      });
      const open = await tx.battle.updateMany({
        where: { id: battleId, status: { in: ["pending", "ready"] } },
        data: { updatedAt: new Date(), ...(modelId === old.modelId ? {} : side === "A" ? { modelAId: modelId } : { modelBId: modelId }) },
      });
      if (swapped.count === 0 || open.count === 0) {
        throw errors.conflict("reroll", { key: "battleChanged" });
      }
    });
  } catch (error) {
    await cancelGeneration({ generationId: fresh.id }).catch(() => undefined);
    throw error;
  }
  await enqueueGeneration(fresh);
  // A stalled answer is superseded: stop it so its engine does no more work for nobody.
  if (unfinished) await cancelGeneration({ generationId: old.id });
  return { side, turn };
}

import { Prisma, type Battle, type Side } from "@prisma/client";
import { db } from "../db";
import { errors } from "../errors";
import { cancelGeneration, createGeneration, enqueueGeneration } from "../generations";
import { generationParamsOf } from "../models/engine";
import type { ChatMessage } from "../pipeline/contracts";
import { userTurnsOf } from "../question-turns";
import { questionTextHash } from "../questions";
import type { Voter } from "../voter-id";
import { getArenaSettings, type ArenaSettings } from "./arena-settings";
import { belowLiveCap, type LiveLane, modelsBusy } from "./live-capacity";
import { drawWeight, NotEnoughModelsError, pickPair } from "./matchmaking";
import { listContenders, type ArenaContender } from "./models";
import { healthyModelIds } from "./model-health";
import { enforceGenerationLimit } from "./rate-limit";
import { KNOWN_ANSWER_SQL, LAST_TURN_SQL, PUBLISHED_PROMPT_QUESTIONS_SQL, REVEALED_BATTLES_SQL, REVEALED_QUESTIONS_SQL } from "./revealed-questions";

export type BattleMode = "bank" | "live" | "named";
/** Turns one battle may have: the voter's first prompt and its follow-ups. */
const MAX_TURNS = 8;
const SIDES: Side[] = ["A", "B"];

function notEnough(error: unknown): never {
  if (error instanceof NotEnoughModelsError) {
    throw errors.conflict("matchmaking", { key: error.eligible === 0 ? "noModels" : "oneModel" });
  }
  throw error;
}

const OPEN_STATUSES: ("pending" | "ready")[] = ["pending", "ready"];
const battleGenerationStates = { generations: { select: { generation: { select: { id: true, status: true, purpose: true } } } } } as const;

/**
 * Stops what an abandoned battle still generates for itself. A bank battle's links point to the
 * bank's shared pre-generated answers, which are never stopped for one voter.
 */
async function stopGenerations(generations: { generation: { id: string; status: string; purpose: string } }[]): Promise<void> {
  for (const { generation } of generations) {
    if (generation.purpose !== "live") continue;
    if (generation.status === "queued" || generation.status === "running") await cancelGeneration({ generationId: generation.id });
  }
}

/**
 * Marks the voter's unvoted live battles abandoned and stops their generations: the voter has
 * moved on. Marked first, so a re-roll racing with this sees the battle closed.
 */
async function abandonOpenBattles(voter: Voter): Promise<void> {
  const open = await db.battle.findMany({
    where: { voterKey: voter.voterKey, status: { in: OPEN_STATUSES }, mode: { in: ["live", "named"] } },
    select: { id: true, ...battleGenerationStates },
  });
  if (!open.length) return;
  await db.battle.updateMany({ where: { id: { in: open.map((b) => b.id) }, status: { in: OPEN_STATUSES } }, data: { status: "abandoned" } });
  for (const battle of open) await stopGenerations(battle.generations);
}

/**
 * The voter leaves this battle for a new one (its answer failed or stalled, or they just move
 * on). An abandoned battle is never voted on, so it never reaches the ratings. Idempotent.
 */
export async function abandonBattle({ battleId, voter }: { battleId: string; voter: Voter }): Promise<{ id: string; status: "abandoned" }> {
  const battle = await db.battle.findUnique({ where: { id: battleId }, select: { voterKey: true, status: true } });
  if (!battle) throw errors.notFound("battle", { key: "battleNotFound" });
  if (battle.voterKey !== voter.voterKey) throw errors.forbidden("battle", { key: "battleNotYours" });
  if (battle.status !== "abandoned") {
    const { count } = await db.battle.updateMany({ where: { id: battleId, status: { in: OPEN_STATUSES } }, data: { status: "abandoned" } });
    // Not open any more: a vote got in first.
    if (count === 0) throw errors.conflict("battle", { key: "battleVoted" });
    // The links as they are now that it is closed: a re-roll that committed meanwhile is stopped too.
    const closed = await db.battle.findUniqueOrThrow({ where: { id: battleId }, select: battleGenerationStates });
    await stopGenerations(closed.generations);
  }
  return { id: battleId, status: "abandoned" };
}

/**
 * A random active question that at least two eligible models have answered, and two of those
 * models. Never one whose answers this voter key or IP has already seen under their models'
 * names, or that everyone has (revealed-questions.ts): the cached texts would name this
 * battle's contestants. Nor an answer published while its question was out of rotation.
 */
export async function createBankBattle({ voter, categoryId }: { voter: Voter; categoryId?: string }): Promise<Battle> {
  const contenders = await listContenders();
  const ids = contenders.map((c) => c.id);
  if (ids.length < 2) notEnough(new NotEnoughModelsError(ids.length));
  if (categoryId && !(await db.category.findUnique({ where: { id: categoryId }, select: { id: true } }))) {
    throw errors.notFound("category");
  }
  const { publishLivePrompts } = await getArenaSettings();
  // Seen questions sort last, so one query tells "nothing ready" from "all seen".
  const rows = await db.$queryRawUnsafe<{ questionId: string; seen: boolean }[]>(`
    WITH revealed AS (${REVEALED_BATTLES_SQL}),
    seen AS (${REVEALED_QUESTIONS_SQL} UNION ${PUBLISHED_PROMPT_QUESTIONS_SQL})
    SELECT g."questionId", g."questionId" IN (SELECT id FROM seen) AS seen
    FROM generations g JOIN questions q ON q.id = g."questionId"
    WHERE g.status = 'completed' AND g."questionId" IS NOT NULL AND q.active AND ${LAST_TURN_SQL} AND NOT ${KNOWN_ANSWER_SQL}
      AND g."modelId" = ANY($3) AND ($4::text IS NULL OR q."categoryId" = $4)
    GROUP BY g."questionId" HAVING COUNT(DISTINCT g."modelId") >= 2
    ORDER BY 2, random() LIMIT 1`, voter.voterKey, voter.ipHash, ids, categoryId ?? null, publishLivePrompts);
  const questionId = rows[0] && !rows[0].seen ? rows[0].questionId : undefined;
  if (!questionId) {
    throw errors.conflict("matchmaking", { key: rows[0] ? "bankSeen" : categoryId ? "bankCategoryNotReady" : "bankNotReady" });
  }
  const answers = await db.$queryRawUnsafe<{ id: string; modelId: string }[]>(`
    SELECT g.id, g."modelId" FROM generations g JOIN questions q ON q.id = g."questionId"
    WHERE g."questionId" = $1 AND g.status = 'completed' AND g."modelId" = ANY($2) AND ${LAST_TURN_SQL} AND NOT ${KNOWN_ANSWER_SQL}
    ORDER BY g."finishedAt" DESC`, questionId, ids);
  // A multi-turn answer is served whole: none of its earlier turns may be a published text either.
  const known = await knownChainAnswers(answers.map((a) => a.id));
  const latestByModel = new Map<string, string>();
  for (const a of answers) if (!latestByModel.has(a.modelId) && !known.has(a.id)) latestByModel.set(a.modelId, a.id);
  let pair: { a: ArenaContender; b: ArenaContender };
  try {
    pair = pickPair(contenders.filter((c) => latestByModel.has(c.id)));
  } catch (error) {
    notEnough(error);
  }
  return createCachedBattle({
    mode: "bank", voter, questionId, modelAId: pair.a.id, modelBId: pair.b.id,
    answerA: latestByModel.get(pair.a.id)!, answerB: latestByModel.get(pair.b.id)!,
  });
}

/**
 * Each answer's chain of generations, first turn first: a multi-turn question's answer to its
 * last turn and every earlier turn it followed (parentId); a single-turn answer alone.
 */
export async function answerChains(lastIds: string[]): Promise<Map<string, { id: string; turn: number; status: string; text: string }[]>> {
  const rows = await db.$queryRaw<{ root: string; id: string; turn: number; status: string; text: string }[]>`
    WITH RECURSIVE chain AS (
      SELECT g.id AS root, g.id, g."parentId", g.turn, g.status::text AS status, g.text FROM generations g WHERE g.id = ANY(${lastIds})
      UNION ALL
      SELECT c.root, p.id, p."parentId", p.turn, p.status::text, p.text FROM generations p JOIN chain c ON p.id = c."parentId"
    )
    SELECT root, id, turn, status, text FROM chain ORDER BY root, turn`;
  const chains = new Map<string, { id: string; turn: number; status: string; text: string }[]>();
  for (const r of rows) chains.set(r.root, [...(chains.get(r.root) ?? []), { id: r.id, turn: r.turn, status: r.status, text: r.text }]);
  return chains;
}

/** Of these last-turn answers, those with an earlier turn whose text was published (KNOWN_ANSWER_SQL). */
async function knownChainAnswers(lastIds: string[]): Promise<Set<string>> {
  const chains = await answerChains(lastIds);
  const earlier = [...chains.values()].flatMap((c) => c.slice(0, -1).map((g) => g.id));
  if (!earlier.length) return new Set();
  const known = new Set((await db.$queryRawUnsafe<{ id: string }[]>(`
    SELECT g.id FROM generations g JOIN questions q ON q.id = g."questionId" WHERE g.id = ANY($1) AND ${KNOWN_ANSWER_SQL}`, earlier)).map((r) => r.id));
  return new Set([...chains].filter(([, chain]) => chain.some((g) => known.has(g.id))).map(([root]) => root));
}

/**
 * A battle over two answers that already exist (bank or named mode on a bank question). On a
 * multi-turn question every turn of both sides is linked: the voter reads the whole conversation.
 */
async function createCachedBattle({ mode, voter, questionId, modelAId, modelBId, answerA, answerB }: {
  mode: "bank" | "named";
  voter: Voter;
  questionId: string;
  modelAId: string;
  modelBId: string;
  answerA: string;
  answerB: string;
}): Promise<Battle> {
  const question = await db.question.findUniqueOrThrow({ where: { id: questionId }, select: { categoryId: true, language: true, textHash: true, text: true, turns: true } });
  const turns = userTurnsOf(question).length;
  const chains = await answerChains([answerA, answerB]);
  const links = ([["A", answerA], ["B", answerB]] as const).flatMap(([side, last]) => {
    const chain = chains.get(last) ?? [];
    if (chain.length !== turns || chain.some((g, i) => g.turn !== i || g.status !== "completed")) {
      throw errors.conflict("matchmaking", { key: "answerIncomplete" });
    }
    return chain.map((g) => ({ side, turn: g.turn, generationId: g.id }));
  });
  return db.battle.create({
    data: {
      mode, questionId, modelAId, modelBId, categoryId: question.categoryId, language: question.language, promptHash: question.textHash,
      voterKey: voter.voterKey, userId: voter.userId, ipHash: voter.ipHash, status: "ready",
      generations: { create: links },
    },
  });
}

/** "zh" when the text has any CJK ideograph, else "en": enough to split a leaderboard by language. */
export function detectLanguage(text: string): string {
  return /[\u3400-\u9fff\uf900-\ufaff]/u.test(text) ? "zh" : "en";
}

const charCount = (text: string) => [...text].length;

/** One turn's prompt, trimmed, within the admin's length per turn. */
function checkPrompt(prompt: string, settings: ArenaSettings): string {
  const trimmed = prompt.trim();
  if (!trimmed) throw errors.badRequest("battle", { key: "promptEmpty" }, "prompt");
  const max = settings.turnMaxChars;
  if (charCount(trimmed) > max) throw errors.badRequest("prompt", { key: "promptTooLong", values: { n: max } }, "prompt");
  return trimmed;
}

/** The voter's prompts of one battle, all turns together, within the admin's length per conversation. */
function checkConversation(prompts: string[], settings: ArenaSettings): void {
  const max = settings.conversationMaxChars;
  if (prompts.reduce((sum, p) => sum + charCount(p), 0) > max) {
    throw errors.badRequest("conversation", { key: "conversationTooLong", values: { n: max } }, "prompt");
  }
}

/**
 * Two healthy models with room for another live answer of a drawn battle. No healthy pair at all
 * is the usual 409; healthy models that are all at their cap are a 503 to retry.
 */
async function drawLivePair(settings: ArenaSettings): Promise<{ a: ArenaContender; b: ArenaContender }> {
  const healthy = await healthyModelIds();
  // Offline models have no engine (and so no heartbeat): they only ever answer bank questions.
  const candidates = (await listContenders()).filter((c) => c.model.kind !== "offline" && healthy.has(c.id));
  const free = await belowLiveCap(candidates, settings.liveInFlightPerModel, "drawn");
  try {
    return pickPair(free);
  } catch (error) {
    if (error instanceof NotEnoughModelsError && candidates.filter((c) => drawWeight(c) > 0).length >= 2) throw modelsBusy();
    notEnough(error);
  }
}

/** Both models of a named battle or of a follow-up turn must have room for another live answer in its lane. */
async function checkLiveCapacity(modelIds: string[], lane: LiveLane, settings: ArenaSettings): Promise<void> {
  const free = await belowLiveCap(modelIds.map((id) => ({ id })), settings.liveInFlightPerModel, lane);
  if (free.length < modelIds.length) throw modelsBusy();
}

async function startSide(battleId: string, side: Side, turn: number, model: ArenaContender["model"], messages: ChatMessage[]) {
  const generation = await createGeneration({
    modelId: model.id,
    purpose: "live",
    messages,
    params: generationParamsOf(model.generationDefaults),
  });
  await db.battleGeneration.create({ data: { battleId, side, turn, generationId: generation.id } });
  await enqueueGeneration(generation);
}

/**
 * Two anonymous models answer the voter's own prompt, streamed. Checked in this order: the
 * prompt's length (400), the models' live answers in flight (503), then the voter's and the IP's
 * live battles in the window (429): only a battle that can start is counted.
 */
export async function createLiveBattle({ voter, prompt, models }: {
  voter: Voter;
  prompt: string;
  /** Named mode: the voter's two picks, in side order. */
  models?: [ArenaContender, ArenaContender];
}): Promise<Battle> {
  const settings = await getArenaSettings();
  const text = checkPrompt(prompt, settings);
  checkConversation([text], settings);
  let a: ArenaContender;
  let b: ArenaContender;
  if (models) {
    [a, b] = models;
    await checkLiveCapacity([a.id, b.id], "named", settings);
  } else {
    ({ a, b } = await drawLivePair(settings));
  }
  await enforceGenerationLimit({ kind: "live", voter, settings });
  await abandonOpenBattles(voter);
  const battle = await db.battle.create({
    data: {
      mode: models ? "named" : "live",
      prompt: [{ role: "user", content: text }],
      promptHash: questionTextHash(text),
      language: detectLanguage(text),
      modelAId: a.id,
      modelBId: b.id,
      voterKey: voter.voterKey,
      userId: voter.userId,
      ipHash: voter.ipHash,
      status: "pending",
    },
  });
  const messages: ChatMessage[] = [{ role: "user", content: text }];
  await Promise.all([startSide(battle.id, "A", 0, a.model, messages), startSide(battle.id, "B", 0, b.model, messages)]);
  return battle;
}

/**
 * A follow-up turn: each side continues its own conversation before the vote. Counted against the
 * voter's and the IP's turns only once the battle accepts it (theirs, open, both answers in).
 */
export async function addBattleTurn({ battleId, voter, prompt }: {
  battleId: string;
  voter: Voter;
  prompt: string;
}): Promise<{ turn: number }> {
  const settings = await getArenaSettings();
  const text = checkPrompt(prompt, settings);
  const battle = await db.battle.findUnique({
    where: { id: battleId },
    include: {
      vote: { select: { id: true } },
      modelA: true,
      modelB: true,
      generations: { include: { generation: { select: { status: true, text: true } } }, orderBy: { turn: "asc" } },
    },
  });
  if (!battle) throw errors.notFound("battle", { key: "battleNotFound" });
  if (battle.voterKey !== voter.voterKey) throw errors.forbidden("battle", { key: "battleNotYours" });
  // A battle on a bank question (bank, or named on one) answers that question only: a follow-up
  // would lose it from the conversation the engine gets.
  if (battle.mode === "bank" || battle.questionId !== null) throw errors.badRequest("battle", { key: "bankSingleQuestion" }, "mode");
  if (battle.vote) throw errors.conflict("battle", { key: "battleVoted" });
  if (battle.status === "abandoned") throw errors.conflict("battle", { key: "battleLeft" });
  const turns = Math.max(...battle.generations.map((g) => g.turn)) + 1;
  if (turns >= MAX_TURNS) throw errors.badRequest("battle", { key: "tooManyTurns", values: { n: MAX_TURNS } }, "prompt");
  if (battle.generations.some((g) => g.generation.status !== "completed")) {
    throw errors.conflict("battle", { key: "waitForAnswers" });
  }
  const userTurns = [...((battle.prompt as ChatMessage[] | null) ?? []), { role: "user" as const, content: text }];
  checkConversation(userTurns.map((u) => u.content), settings);
  await checkLiveCapacity([battle.modelAId, battle.modelBId], battle.mode === "named" ? "named" : "drawn", settings);
  await enforceGenerationLimit({ kind: "turn", voter, settings });
  await db.battle.update({ where: { id: battleId }, data: { prompt: userTurns, status: "pending" } });
  for (const side of SIDES) {
    const answers = battle.generations.filter((g) => g.side === side).map((g) => g.generation.text);
    const messages: ChatMessage[] = [];
    userTurns.forEach((u, i) => {
      messages.push({ role: "user", content: u.content });
      if (i < answers.length) messages.push({ role: "assistant", content: answers[i]! });
    });
    const model = side === "A" ? battle.modelA : battle.modelB;
    await startSide(battleId, side, turns, model, messages);
  }
  return { turn: turns };
}

/**
 * Named mode (/compare): the voter picks both models. With a prompt they answer it live;
 * without one, a bank question both have answered. Its votes are kept but never rated.
 */
export async function createNamedBattle({ voter, modelSlugs, prompt, questionId }: {
  voter: Voter;
  modelSlugs: [string, string];
  prompt?: string;
  questionId?: string;
}): Promise<Battle> {
  if (modelSlugs[0] === modelSlugs[1]) throw errors.badRequest("battle", { key: "sameModel" }, "modelB");
  const models = await db.model.findMany({ where: { slug: { in: modelSlugs }, status: { not: "disabled" } } });
  const picked = modelSlugs.map((slug, i) => {
    const model = models.find((m) => m.slug === slug);
    if (!model) throw errors.badRequest("battle", { key: "unknownModel", values: { model: slug } }, i === 0 ? "modelA" : "modelB");
    return { id: model.id, battleWeight: 1, battles: 0, model } satisfies ArenaContender;
  }) as unknown as [ArenaContender, ArenaContender];
  if (prompt !== undefined && prompt.trim() !== "") {
    picked.forEach((p, i) => {
      if (p.model.kind === "offline") {
        throw errors.badRequest("battle", { key: "offlineModel", values: { model: p.model.slug } }, i === 0 ? "modelA" : "modelB");
      }
    });
    return createLiveBattle({ voter, prompt, models: picked });
  }

  const ids = picked.map((p) => p.id);
  const rows = await db.$queryRaw<{ questionId: string }[]>`
    SELECT g."questionId" FROM generations g JOIN questions q ON q.id = g."questionId"
    WHERE g.status = 'completed' AND g."modelId" = ANY(${ids}) AND q.active AND ${Prisma.raw(LAST_TURN_SQL)}
      AND (${questionId ?? null}::text IS NULL OR g."questionId" = ${questionId ?? null})
    GROUP BY g."questionId" HAVING COUNT(DISTINCT g."modelId") = 2
    ORDER BY random() LIMIT 1`;
  const chosen = rows[0]?.questionId;
  if (!chosen) {
    throw errors.conflict("matchmaking", { key: "noCommonQuestions" });
  }
  const question = await db.question.findUniqueOrThrow({ where: { id: chosen }, select: { text: true, turns: true } });
  const answers = await db.generation.findMany({
    where: { questionId: chosen, status: "completed", modelId: { in: ids }, turn: userTurnsOf(question).length - 1 },
    orderBy: { finishedAt: "desc" },
    select: { id: true, modelId: true },
  });
  const answerOf = (modelId: string) => answers.find((a) => a.modelId === modelId)!.id;
  return createCachedBattle({
    mode: "named", voter, questionId: chosen, modelAId: picked[0].id, modelBId: picked[1].id,
    answerA: answerOf(picked[0].id), answerB: answerOf(picked[1].id),
  });
}

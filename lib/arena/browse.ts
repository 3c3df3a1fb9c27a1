import type { Prisma } from "@prisma/client";
import { latestAnswerSet } from "../admin/answers-import";
import { db } from "../db";
import { errors } from "../errors";
import { userTurnsOf } from "../question-turns";
import { getArenaSettings } from "./arena-settings";
import { answerChains } from "./battles";
import { publishedBattlesWhere } from "./publication";
import { getLeaderboardView } from "./leaderboard-view";
import { getRatingHistory } from "./ratings-job";
import { bankAnswersPublished } from "./revealed-questions";

// Browse pages show battles after the fact. A bank answer is cached: every battle on its
// question serves the same text, so that text under its model's name would name the
// contestants of battles still to come. Bank answers are therefore shown with names only for
// questions out of rated rotation (inactive), or everywhere when the admin publishes them in
// rotation (arena settings) — never merely because someone voted: a second cookie would then
// read what the first one unlocked. A voter still sees their own voted battles' two answers.
// Live answers are unique to their battle.

const battleCard = {
  id: true, mode: true, createdAt: true, prompt: true, questionId: true, voterKey: true,
  question: { select: { id: true, text: true, turns: true, active: true } },
  modelA: { select: { slug: true, displayName: true } },
  modelB: { select: { slug: true, displayName: true } },
  vote: { select: { winner: true, valid: true, rated: true } },
  generations: { select: { side: true, turn: true, generation: { select: { text: true } } } },
} as const;

type BattleRow = {
  id: string; mode: string; createdAt: Date; prompt: unknown; questionId: string | null; voterKey: string;
  question: { id: string; text: string; turns: unknown; active: boolean } | null;
  modelA: { slug: string; displayName: string }; modelB: { slug: string; displayName: string };
  vote: { winner: string; valid: boolean; rated: boolean } | null;
  generations: { side: string; turn: number; generation: { text: string } }[];
};

// No battle id: with it anyone could open the battle's own view (api/battles/{id}).
export type BattleCard = {
  mode: string; createdAt: Date; prompt: string; questionId: string | null;
  modelA: { slug: string; displayName: string }; modelB: { slug: string; displayName: string };
  winner: string | null; valid: boolean;
  /** Every turn of the conversation, the first one first; null while the answers are not published. */
  turns: { prompt: string; A: string; B: string }[] | null;
};

type Viewer = { voterKey: string | null; publishAnswersInRotation: boolean };

async function viewerOf(voterKey: string | null): Promise<Viewer> {
  return { voterKey, publishAnswersInRotation: (await getArenaSettings()).publishAnswersInRotation };
}

function toCard(b: BattleRow, viewer: Viewer): BattleCard {
  const showAnswers = b.question === null || bankAnswersPublished(b.question, viewer) || (viewer.voterKey !== null && b.voterKey === viewer.voterKey);
  const prompts = b.question ? userTurnsOf(b.question) : livePrompts(b.prompt);
  const text = (side: string, turn: number) => b.generations.find((g) => g.side === side && g.turn === turn)?.generation.text ?? "";
  const turnCount = Math.max(prompts.length, ...b.generations.map((g) => g.turn + 1));
  return {
    mode: b.mode, createdAt: b.createdAt, questionId: b.questionId,
    prompt: prompts[0] ?? "",
    modelA: b.modelA, modelB: b.modelB, winner: b.vote?.winner ?? null, valid: b.vote?.valid ?? false,
    turns: showAnswers ? Array.from({ length: turnCount }, (_, t) => ({ prompt: prompts[t] ?? "", A: text("A", t), B: text("B", t) })) : null,
  };
}

/** A live battle's user turns, as stored on the battle. */
function livePrompts(prompt: unknown): string[] {
  if (!Array.isArray(prompt)) return [];
  return prompt.flatMap((m: { role?: unknown; content?: unknown } | null) => (m && m.role !== "assistant" && typeof m.content === "string" ? [m.content] : []));
}

export async function getModelPage({ slug, voterKey }: { slug: string; voterKey: string | null }) {
  const model = await db.model.findUnique({
    where: { slug },
    select: { id: true, slug: true, displayName: true, description: true, organisation: true, licence: true, link: true, status: true, elo: true, kind: true },
  });
  if (!model || model.status === "disabled") throw errors.notFound("model");
  const [history, run, battles, viewer] = await Promise.all([
    getRatingHistory({ modelId: model.id }),
    // As the leaderboard lists it: a provisional model has no rank here either.
    getLeaderboardView(),
    db.battle.findMany({
      where: { vote: { isNot: null }, OR: [{ modelAId: model.id }, { modelBId: model.id }], AND: [await publishedBattlesWhere()] },
      orderBy: { createdAt: "desc" }, take: 20, select: battleCard,
    }),
    viewerOf(voterKey),
  ]);
  const perCategory = run
    ? Object.entries(run.leaderboard.categories).flatMap(([cat, scope]) => {
        const row = scope.models.find((m) => m.model === model.id);
        const names = run.categories[cat];
        return row && names ? [{ category: cat, nameZh: names.nameZh, nameEn: names.nameEn, ...row }] : [];
      })
    : [];
  const overall = run?.leaderboard.models.find((m) => m.model === model.id) ?? null;
  // An offline model's answers are imported: its page says where they came from, when, and how
  // many questions it battles on (every version's answers count, the newest per question).
  const answerSet = model.kind === "offline" ? await latestAnswerSet({ modelId: model.id }) : null;
  return { model, history, overall, perCategory, battles: battles.map((b) => toCard(b, viewer)), answerSet, opponents: await opponentsOf({ modelId: model.id }) };
}

export async function getHeadToHead({ slugA, slugB, voterKey }: { slugA: string; slugB: string; voterKey: string | null }) {
  const models = await db.model.findMany({ where: { slug: { in: [slugA, slugB] }, status: { not: "disabled" } }, select: { id: true, slug: true, displayName: true } });
  const a = models.find((m) => m.slug === slugA);
  const b = models.find((m) => m.slug === slugB);
  if (!a || !b || a.id === b.id) throw errors.notFound("model");
  const votes = await db.vote.findMany({
    where: { valid: true, OR: [{ modelAId: a.id, modelBId: b.id }, { modelAId: b.id, modelBId: a.id }] },
    select: { modelAId: true, winner: true, rated: true },
  });
  const record = { aWins: 0, bWins: 0, ties: 0, bothBad: 0, total: votes.length };
  for (const v of votes) {
    if (v.winner === "tie") record.ties++;
    else if (v.winner === "both_bad") record.bothBad++;
    else if ((v.winner === "A") === (v.modelAId === a.id)) record.aWins++;
    else record.bWins++;
  }
  const [battles, viewer] = await Promise.all([
    db.battle.findMany({
      where: { vote: { isNot: null }, OR: [{ modelAId: a.id, modelBId: b.id }, { modelAId: b.id, modelBId: a.id }], AND: [await publishedBattlesWhere()] },
      orderBy: { createdAt: "desc" }, take: 10, select: battleCard,
    }),
    viewerOf(voterKey),
  ]);
  return { a, b, record, battles: battles.map((x) => toCard(x, viewer)) };
}

export async function getQuestionPage({ id, voterKey }: { id: string; voterKey: string | null }) {
  const question = await db.question.findUnique({
    where: { id },
    select: { id: true, text: true, turns: true, language: true, active: true, category: { select: { nameZh: true, nameEn: true } } },
  });
  if (!question) throw errors.notFound("question");
  const viewer = await viewerOf(voterKey);
  const answersPublished = bankAnswersPublished(question, viewer);
  const userTurns = userTurnsOf(question);
  const [latest, battles] = await Promise.all([
    answersPublished
      ? db.generation.findMany({
          // Each model's latest answer to the last turn; its chain holds the earlier turns.
          where: { questionId: id, status: "completed", turn: userTurns.length - 1 }, orderBy: { finishedAt: "desc" }, distinct: ["modelId"],
          select: { id: true, text: true, model: { select: { slug: true, displayName: true } } },
        })
      : Promise.resolve([]),
    db.battle.findMany({ where: { questionId: id, vote: { isNot: null } }, orderBy: { createdAt: "desc" }, take: 20, select: battleCard }),
  ]);
  const chains = userTurns.length > 1 && latest.length ? await answerChains(latest.map((g) => g.id)) : null;
  const answers = latest.map((g) => ({ model: g.model, turns: chains ? (chains.get(g.id) ?? []).map((c) => c.text) : [g.text] }));
  return { question: { ...question, userTurns }, answersPublished, answers, battles: battles.map((b) => toCard(b, viewer)) };
}

/** Every model a visitor may see (not disabled), with its overall standing from the leaderboard view. */
export async function getModelsIndex() {
  const [models, run] = await Promise.all([
    db.model.findMany({
      where: { status: { not: "disabled" } },
      select: { id: true, slug: true, displayName: true, organisation: true, licence: true, kind: true, status: true },
      orderBy: { displayName: "asc" },
    }),
    getLeaderboardView(),
  ]);
  const row = (id: string) => run?.leaderboard.models.find((m) => m.model === id) ?? null;
  return models.map((m) => {
    const r = row(m.id);
    return { ...m, rating: r ? { bt: r.bt, rank: r.rank, battles: r.battles, winRate: r.winRate } : null };
  });
}

export const BATTLE_OUTCOMES = ["decisive", "tie", "both_bad"] as const;
export type BattleOutcome = (typeof BATTLE_OUTCOMES)[number];
export type BattleFilters = { model?: string; category?: string; outcome?: BattleOutcome; from?: Date; to?: Date };
const BATTLES_PER_PAGE = 20;

/**
 * Voted battles anyone may browse, newest first, filtered by a model, a category, an outcome and
 * a date range; only battles the privacy settings publish, with answers as battle cards show them.
 * `before` pages on: the createdAt of the last card shown.
 */
export async function browseBattles({ filters, voterKey, before }: { filters: BattleFilters; voterKey: string | null; before?: Date }) {
  const model = filters.model ? await db.model.findFirst({ where: { slug: filters.model, status: { not: "disabled" } }, select: { id: true } }) : null;
  if (filters.model && !model) throw errors.notFound("model");
  const category = filters.category ? await db.category.findUnique({ where: { slug: filters.category }, select: { id: true } }) : null;
  if (filters.category && !category) throw errors.notFound("category");
  const winner = filters.outcome === "decisive" ? { in: ["A", "B"] as ("A" | "B")[] } : filters.outcome;
  const createdAt = { ...(filters.from ? { gte: filters.from } : {}), ...(filters.to ? { lt: filters.to } : {}), ...(before ? { lt: before } : {}) };
  const where: Prisma.BattleWhereInput = {
    AND: [
      await publishedBattlesWhere(),
      { vote: winner ? { is: { winner } } : { isNot: null } },
      model ? { OR: [{ modelAId: model.id }, { modelBId: model.id }] } : {},
      category ? { categoryId: category.id } : {},
      Object.keys(createdAt).length ? { createdAt } : {},
    ],
  };
  const [rows, viewer] = await Promise.all([
    db.battle.findMany({ where, orderBy: [{ createdAt: "desc" }, { id: "desc" }], take: BATTLES_PER_PAGE + 1, select: battleCard }),
    viewerOf(voterKey),
  ]);
  const page = rows.slice(0, BATTLES_PER_PAGE);
  return { battles: page.map((b) => toCard(b, viewer)), next: rows.length > BATTLES_PER_PAGE ? page.at(-1)!.createdAt : null };
}

/** The models a model has voted battles with, most battles first: the page's head-to-head links. */
export async function opponentsOf({ modelId }: { modelId: string }) {
  const rows = await db.$queryRaw<{ other: string; battles: bigint }[]>`
    SELECT CASE WHEN v."modelAId" = ${modelId} THEN v."modelBId" ELSE v."modelAId" END AS other, count(*) AS battles
    FROM votes v WHERE v.valid AND (v."modelAId" = ${modelId} OR v."modelBId" = ${modelId})
    GROUP BY other ORDER BY battles DESC LIMIT 50`;
  const models = await db.model.findMany({ where: { id: { in: rows.map((r) => r.other) }, status: { not: "disabled" } }, select: { id: true, slug: true, displayName: true } });
  const byId = new Map(models.map((m) => [m.id, m]));
  return rows.flatMap((r) => {
    const m = byId.get(r.other);
    return m ? [{ slug: m.slug, displayName: m.displayName, battles: Number(r.battles) }] : [];
  });
}

/** What the battle browser's filters offer: the models a visitor may see and every category. */
export async function battleFilterOptions() {
  const [models, categories] = await Promise.all([
    db.model.findMany({ where: { status: { not: "disabled" } }, select: { slug: true, displayName: true }, orderBy: { displayName: "asc" } }),
    db.category.findMany({ select: { slug: true, nameZh: true, nameEn: true }, orderBy: { sortOrder: "asc" } }),
  ]);
  return { models, categories };
}

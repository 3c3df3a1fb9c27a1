import { db } from "../db";
import { errors } from "../errors";
import { getLatestRatingRun, getRatingHistory } from "./ratings-job";

// Browse pages show battles after the fact. A bank answer is reused in future battles on the
// same question, so its text (with its model's name) is shown only to someone who has already
// voted on that question; live answers are unique to their battle and are shown to all.

const battleCard = {
  id: true, mode: true, createdAt: true, prompt: true, questionId: true,
  question: { select: { id: true, text: true } },
  modelA: { select: { slug: true, displayName: true } },
  modelB: { select: { slug: true, displayName: true } },
  vote: { select: { winner: true, valid: true, rated: true } },
  generations: { where: { turn: 0 }, select: { side: true, generation: { select: { text: true } } } },
} as const;

async function votedQuestionIds(voterKey: string | null): Promise<Set<string>> {
  if (!voterKey) return new Set();
  const rows = await db.battle.findMany({ where: { voterKey, vote: { isNot: null }, questionId: { not: null } }, select: { questionId: true } });
  return new Set(rows.map((r) => r.questionId!));
}

type BattleRow = {
  id: string; mode: string; createdAt: Date; prompt: unknown; questionId: string | null;
  question: { id: string; text: string } | null;
  modelA: { slug: string; displayName: string }; modelB: { slug: string; displayName: string };
  vote: { winner: string; valid: boolean; rated: boolean } | null;
  generations: { side: string; generation: { text: string } }[];
};

export type BattleCard = {
  id: string; mode: string; createdAt: Date; prompt: string; questionId: string | null;
  modelA: { slug: string; displayName: string }; modelB: { slug: string; displayName: string };
  winner: string | null; valid: boolean; answers: { A: string; B: string } | null;
};

function toCard(b: BattleRow, voted: Set<string>): BattleCard {
  const showAnswers = b.questionId === null || voted.has(b.questionId);
  const text = (side: string) => b.generations.find((g) => g.side === side)?.generation.text ?? "";
  return {
    id: b.id, mode: b.mode, createdAt: b.createdAt, questionId: b.questionId,
    prompt: b.question?.text ?? (b.prompt as { content: string }[] | null)?.[0]?.content ?? "",
    modelA: b.modelA, modelB: b.modelB, winner: b.vote?.winner ?? null, valid: b.vote?.valid ?? false,
    answers: showAnswers ? { A: text("A"), B: text("B") } : null,
  };
}

export async function getModelPage({ slug, voterKey }: { slug: string; voterKey: string | null }) {
  const model = await db.model.findUnique({
    where: { slug },
    select: { id: true, slug: true, displayName: true, description: true, organisation: true, licence: true, link: true, status: true, elo: true },
  });
  if (!model || model.status === "disabled") throw errors.notFound("model");
  const [history, run, battles, voted] = await Promise.all([
    getRatingHistory({ modelId: model.id }),
    getLatestRatingRun(),
    db.battle.findMany({
      where: { vote: { isNot: null }, OR: [{ modelAId: model.id }, { modelBId: model.id }] },
      orderBy: { createdAt: "desc" }, take: 20, select: battleCard,
    }),
    votedQuestionIds(voterKey),
  ]);
  const perCategory = run
    ? Object.entries(run.leaderboard.categories).flatMap(([cat, scope]) => {
        const row = scope.models.find((m) => m.model === model.id);
        const names = run.categories[cat];
        return row && names ? [{ category: cat, nameZh: names.nameZh, nameEn: names.nameEn, ...row }] : [];
      })
    : [];
  const overall = run?.leaderboard.models.find((m) => m.model === model.id) ?? null;
  return { model, history, overall, perCategory, battles: battles.map((b) => toCard(b, voted)) };
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
  const [battles, voted] = await Promise.all([
    db.battle.findMany({
      where: { vote: { isNot: null }, OR: [{ modelAId: a.id, modelBId: b.id }, { modelAId: b.id, modelBId: a.id }] },
      orderBy: { createdAt: "desc" }, take: 10, select: battleCard,
    }),
    votedQuestionIds(voterKey),
  ]);
  return { a, b, record, battles: battles.map((x) => toCard(x, voted)) };
}

export async function getQuestionPage({ id, voterKey }: { id: string; voterKey: string | null }) {
  const question = await db.question.findUnique({ where: { id }, select: { id: true, text: true, language: true, category: { select: { nameZh: true, nameEn: true } } } });
  if (!question) throw errors.notFound("question");
  const voted = await votedQuestionIds(voterKey);
  const canSeeAnswers = voted.has(id);
  const [answers, battles] = await Promise.all([
    canSeeAnswers
      ? db.generation.findMany({
          where: { questionId: id, status: "completed" }, orderBy: { finishedAt: "desc" }, distinct: ["modelId"],
          select: { text: true, model: { select: { slug: true, displayName: true } } },
        })
      : Promise.resolve([]),
    db.battle.findMany({ where: { questionId: id, vote: { isNot: null } }, orderBy: { createdAt: "desc" }, take: 20, select: battleCard }),
  ]);
  return { question, canSeeAnswers, answers, battles: battles.map((b) => toCard(b, voted)) };
}

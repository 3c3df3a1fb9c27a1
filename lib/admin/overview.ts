import { db } from "../db";

export type AdminOverview = {
  models: { active: number; disabled: number; retired: number };
  questions: { active: number; total: number };
  battles: number;
  votes: { valid: number; invalid: number };
  generations: { queued: number; running: number; failed: number };
};

export async function getAdminOverview(): Promise<AdminOverview> {
  const [modelGroups, activeQuestions, totalQuestions, battles, validVotes, invalidVotes, genGroups] = await Promise.all([
    db.model.groupBy({ by: ["status"], _count: { _all: true } }),
    db.question.count({ where: { active: true } }),
    db.question.count(),
    db.battle.count(),
    db.vote.count({ where: { valid: true } }),
    db.vote.count({ where: { valid: false } }),
    db.generation.groupBy({ by: ["status"], _count: { _all: true }, where: { status: { in: ["queued", "running", "failed"] } } }),
  ]);
  const models = { active: 0, disabled: 0, retired: 0 };
  for (const g of modelGroups) models[g.status] = g._count._all;
  const generations = { queued: 0, running: 0, failed: 0 };
  for (const g of genGroups) if (g.status in generations) generations[g.status as keyof typeof generations] = g._count._all;
  return {
    models,
    questions: { active: activeQuestions, total: totalQuestions },
    battles,
    votes: { valid: validVotes, invalid: invalidVotes },
    generations,
  };
}

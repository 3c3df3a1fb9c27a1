import type { Model } from "@prisma/client";
import { db } from "../db";
import type { Contender } from "./matchmaking";

export type ArenaModel = Pick<Model, "id" | "slug" | "displayName" | "organisation" | "battleWeight" | "status" | "generationDefaults" | "kind">;
export type ArenaContender = Contender & { model: ArenaModel };

const arenaFields = {
  id: true, slug: true, displayName: true, organisation: true, battleWeight: true, status: true, generationDefaults: true, kind: true,
} as const;

/** Active models with a positive weight, with their battle counts (for the new-model boost). */
export async function listContenders({ onlyIds }: { onlyIds?: string[] } = {}): Promise<ArenaContender[]> {
  const models = await db.model.findMany({
    where: { status: "active", battleWeight: { gt: 0 }, ...(onlyIds ? { id: { in: onlyIds } } : {}) },
    select: arenaFields,
  });
  if (models.length === 0) return [];
  const [asA, asB] = await Promise.all([
    db.battle.groupBy({ by: ["modelAId"], _count: { _all: true }, where: { modelAId: { in: models.map((m) => m.id) } } }),
    db.battle.groupBy({ by: ["modelBId"], _count: { _all: true }, where: { modelBId: { in: models.map((m) => m.id) } } }),
  ]);
  const battles = new Map<string, number>();
  for (const g of asA) battles.set(g.modelAId, (battles.get(g.modelAId) ?? 0) + g._count._all);
  for (const g of asB) battles.set(g.modelBId, (battles.get(g.modelBId) ?? 0) + g._count._all);
  return models.map((m) => ({ id: m.id, battleWeight: m.battleWeight, battles: battles.get(m.id) ?? 0, model: m }));
}

export async function getModelBySlug({ slug }: { slug: string }): Promise<ArenaModel | null> {
  return db.model.findUnique({ where: { slug }, select: arenaFields });
}

/** Models a voter may pick in named mode: everything not disabled. */
export async function listPickableModels(): Promise<Pick<Model, "slug" | "displayName" | "organisation" | "status">[]> {
  return db.model.findMany({
    where: { status: { in: ["active", "retired"] } },
    select: { slug: true, displayName: true, organisation: true, status: true },
    orderBy: { displayName: "asc" },
  });
}

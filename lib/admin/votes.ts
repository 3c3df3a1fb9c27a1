import type { Prisma } from "@prisma/client";
import { recordAudit } from "../audit";
import { db } from "../db";
import { errors } from "../errors";
import { voteFilterSchema, type Moderation, type VoteFilter } from "../schemas/votes";
import { detectVoteAnomalies, type VoterAnomaly } from "./anomaly";

export const VOTES_PER_PAGE = 50;

export { moderationSchema, voteFilterSchema, type Moderation, type VoteFilter } from "../schemas/votes";

/** Query-string form of a filter: empty fields mean "any". */
export function voteFilterFromQuery(q: Record<string, string | undefined>): VoteFilter {
  const cleaned = Object.fromEntries(Object.entries(q).filter(([, v]) => v !== undefined && v !== ""));
  return voteFilterSchema.parse(cleaned);
}

function whereOf(f: VoteFilter): Prisma.VoteWhereInput {
  return {
    ...(f.from || f.to ? { createdAt: { ...(f.from ? { gte: f.from } : {}), ...(f.to ? { lte: f.to } : {}) } } : {}),
    ...(f.model ? { OR: [{ modelAId: f.model }, { modelBId: f.model }] } : {}),
    ...(f.voterKey ? { voterKey: f.voterKey } : {}),
    ...(f.ipHash ? { ipHash: f.ipHash } : {}),
    ...(f.valid ? { valid: f.valid === "true" } : {}),
  };
}

export async function listVotes({ filter, page = 1 }: { filter: VoteFilter; page?: number }) {
  const where = whereOf(filter);
  const [total, rows, models] = await Promise.all([
    db.vote.count({ where }),
    db.vote.findMany({ where, orderBy: { createdAt: "desc" }, skip: (page - 1) * VOTES_PER_PAGE, take: VOTES_PER_PAGE }),
    db.model.findMany({ select: { id: true, displayName: true } }),
  ]);
  const names = new Map(models.map((m) => [m.id, m.displayName]));
  return {
    total, page, pages: Math.max(1, Math.ceil(total / VOTES_PER_PAGE)),
    rows: rows.map((v) => ({ ...v, modelA: names.get(v.modelAId) ?? v.modelAId, modelB: names.get(v.modelBId) ?? v.modelBId })),
  };
}

/** Invalidates or restores votes by id or by filter, in one statement, with one audit entry. */
export async function moderateVotes({ moderation, actorId }: { moderation: Moderation; actorId: string }): Promise<{ count: number }> {
  const { action, reason, ids, filter } = moderation;
  if (action === "invalidate" && !reason) throw errors.badRequest("moderation", { key: "voteReasonRequired" }, "reason");
  let where: Prisma.VoteWhereInput;
  if (ids?.length) where = { id: { in: ids } };
  else if (filter && (filter.voterKey || filter.ipHash || filter.model || filter.from || filter.to)) where = whereOf(filter);
  else throw errors.badRequest("moderation", { key: "voteChooseVotes" }, "filter");
  // Only rows whose state changes, so the audit entry lists exactly what moved.
  where = { AND: [where, { valid: action === "restore" ? false : true }] };
  return db.$transaction(async (tx) => {
    const affected = await tx.vote.findMany({ where, select: { id: true } });
    const { count } = await tx.vote.updateMany({
      where: { id: { in: affected.map((v) => v.id) } },
      data: action === "invalidate" ? { valid: false, invalidReason: reason } : { valid: true, invalidReason: null },
    });
    await recordAudit({
      actorId, action: `vote.${action}`, targetType: "vote", targetId: ids?.length === 1 ? ids[0] : null,
      before: { valid: action === "restore" ? false : true },
      after: { valid: action === "invalidate" ? false : true, reason, filter, count, voteIds: affected.slice(0, 1000).map((v) => v.id) },
    }, tx);
    return { count };
  }, { timeout: 60_000 });
}

/** Voters whose valid rated votes are improbable given everyone else's (see anomaly.ts). */
export async function flaggedVoters({ alpha = 0.05 }: { alpha?: number } = {}): Promise<VoterAnomaly[]> {
  const votes = await db.vote.findMany({
    where: { valid: true, rated: true },
    select: { voterKey: true, modelAId: true, modelBId: true, winner: true },
  });
  return detectVoteAnomalies(votes, { alpha }).filter((r) => r.flagged);
}

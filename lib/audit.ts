import type { Prisma, PrismaClient } from "@prisma/client";
import { db } from "./db";

// Every admin change leaves one row. Callers pass snapshots that never hold secrets
// (an API key appears only as "set" / "not set").

type Tx = Prisma.TransactionClient | PrismaClient;

export type AuditEntry = {
  actorId: string | null;
  action: string;
  targetType: string;
  targetId?: string | null;
  before?: unknown;
  after?: unknown;
};

function json(value: unknown): Prisma.InputJsonValue | undefined {
  if (value === undefined || value === null) return undefined;
  // Dates and other class instances become plain JSON.
  return JSON.parse(JSON.stringify(value)) as Prisma.InputJsonValue;
}

export async function recordAudit(entry: AuditEntry, tx: Tx = db): Promise<void> {
  await tx.auditLog.create({
    data: {
      actorId: entry.actorId,
      action: entry.action,
      targetType: entry.targetType,
      targetId: entry.targetId ?? null,
      before: json(entry.before),
      after: json(entry.after),
    },
  });
}

export async function listAudit({ targetType, targetId, limit = 50 }: { targetType?: string; targetId?: string; limit?: number }) {
  return db.auditLog.findMany({
    where: { targetType, targetId },
    orderBy: { createdAt: "desc" },
    take: limit,
    include: { actor: { select: { email: true } } },
  });
}

import { recordAudit } from "../audit";
import { db } from "../db";
import { errors } from "../errors";
import type { StartPregenInput } from "../schemas/pregen";
import { cancelPregen, getPregenProgress, retryFailed, startPregen, type PregenProgress } from "../pipeline/pregen";

// The admin's side of pre-generation: one run per chosen model, progress for the live bars,
// cancel and retry — each change audited. The work itself is lib/pipeline/pregen.ts.

export { startPregenSchema, type StartPregenInput } from "../schemas/pregen";

export type PregenRunView = { id: string; modelId: string; model: string; scope: string; createdAt: Date; progress: PregenProgress };

export async function startPregenRuns({ input, actorId }: { input: StartPregenInput; actorId: string }): Promise<{ runIds: string[] }> {
  if (input.scope === "category" && !input.categoryId) throw errors.badRequest("pregen", { key: "pregenPickCategory" }, "categoryId");
  const runIds: string[] = [];
  for (const modelId of [...new Set(input.modelIds)]) {
    const run = await startPregen({ modelId, scope: input.scope, categoryId: input.categoryId, createdBy: actorId });
    await recordAudit({ actorId, action: "pregen.start", targetType: "pregen_run", targetId: run.id, after: { modelId, scope: input.scope, categoryId: input.categoryId ?? null } });
    runIds.push(run.id);
  }
  return { runIds };
}

export async function listPregenRuns({ limit = 20, ids }: { limit?: number; ids?: string[] } = {}): Promise<PregenRunView[]> {
  const runs = await db.pregenRun.findMany({
    where: ids ? { id: { in: ids } } : undefined,
    orderBy: { createdAt: "desc" },
    take: limit,
    include: { model: { select: { displayName: true } } },
  });
  return Promise.all(runs.map(async (r) => ({
    id: r.id,
    modelId: r.modelId,
    model: r.model.displayName,
    scope: (r.spec as { scope?: string }).scope ?? "all",
    createdAt: r.createdAt,
    progress: await getPregenProgress(r.id),
  })));
}

export async function getPregenRun({ id }: { id: string }): Promise<PregenRunView> {
  const [run] = await listPregenRuns({ ids: [id], limit: 1 });
  if (!run) throw errors.notFound("pregen_run");
  return run;
}

export async function cancelPregenRun({ id, actorId }: { id: string; actorId: string }): Promise<void> {
  await cancelPregen(id);
  await recordAudit({ actorId, action: "pregen.cancel", targetType: "pregen_run", targetId: id });
}

export async function retryPregenRun({ id, actorId }: { id: string; actorId: string }): Promise<{ retried: number }> {
  const retried = await retryFailed(id);
  await recordAudit({ actorId, action: "pregen.retry", targetType: "pregen_run", targetId: id, after: { retried } });
  return { retried };
}

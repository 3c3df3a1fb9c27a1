import type { Generation } from "@prisma/client";
import { db } from "../db";
import { AppError, errors } from "../errors";
import { checkHealth, type Health } from "../health";
import { log } from "../log";
import { getModelHealth, listHeartbeats, type ModelHealth } from "../pipeline/health";
import { runtimeUrlOf } from "../pipeline/engine-target";
import { retryGenerations } from "../pipeline/generation-state";
import { recordAudit } from "../audit";
import { redis } from "../redis";
import { queueJobCounts, type QueueCounts } from "./queues";

export type HealthLabel = "healthy" | "engine down" | "no worker" | "unknown";

/** Per model id; "unknown" when the heartbeats cannot be read (Redis down). */
export async function modelHealthLabels(modelIds: string[]): Promise<Map<string, { label: HealthLabel; health: ModelHealth | null }>> {
  const out = new Map<string, { label: HealthLabel; health: ModelHealth | null }>();
  try {
    const health = await getModelHealth(modelIds);
    for (const id of modelIds) {
      const h = health.get(id) ?? null;
      out.set(id, { label: h?.healthy ? "healthy" : h?.engineDown ? "engine down" : "no worker", health: h });
    }
  } catch (error) {
    log.warn("admin:model-health", error);
    for (const id of modelIds) out.set(id, { label: "unknown", health: null });
  }
  return out;
}

export type RuntimeHealth = { url: string; ok: boolean; message: string };

async function runtimeHealth(url: string): Promise<RuntimeHealth> {
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(3000), cache: "no-store" });
    return { url, ok: res.ok, message: res.ok ? "reachable" : `HTTP ${res.status}` };
  } catch {
    return { url, ok: false, message: "not reachable" };
  }
}

export type SystemStatus = {
  services: Health;
  workers: { workerId: string; modelId: string; lastSeen: number; running: number; tokensPerSecond: number; lastError: string | null }[];
  runtimes: RuntimeHealth[];
  queues: QueueCounts[];
  /** Generations of these models PostgreSQL calls queued or running: each should have a job waiting or running. */
  openGenerations: number;
  failed: (Pick<Generation, "id" | "modelId" | "purpose" | "error" | "createdAt" | "finishedAt"> & { model: string })[];
};

export async function getSystemStatus(): Promise<SystemStatus> {
  const models = await db.model.findMany({ where: { status: { not: "retired" } }, orderBy: { slug: "asc" } });
  const runtimeUrls = [...new Set(models.map((m) => runtimeUrlOf(m)).filter((u): u is string => !!u))];
  const [services, workers, runtimes, queues, openGenerations, failed] = await Promise.all([
    checkHealth({ db, redis: redis() }),
    listHeartbeats().catch(() => []),
    Promise.all(runtimeUrls.map(runtimeHealth)),
    queueJobCounts(),
    db.generation.count({ where: { status: { in: ["queued", "running"] }, model: { status: { not: "retired" } } } }),
    db.generation.findMany({
      where: { status: "failed" }, orderBy: { createdAt: "desc" }, take: 20,
      select: { id: true, modelId: true, purpose: true, error: true, createdAt: true, finishedAt: true, model: { select: { slug: true } } },
    }),
  ]);
  return {
    services, runtimes, queues, openGenerations,
    workers: workers.map((w) => ({ workerId: w.workerId, modelId: w.modelId, lastSeen: w.lastSeen, running: w.running, tokensPerSecond: w.tokensPerSecond, lastError: w.lastError })),
    failed: failed.map(({ model, ...g }) => ({ ...g, model: model.slug })),
  };
}

/** Puts a failed generation back on its model's queue (same job id, so never twice). */
export async function retryGeneration({ id, actorId }: { id: string; actorId: string }): Promise<void> {
  const generation = await db.generation.findUnique({ where: { id } });
  if (!generation) throw errors.notFound("generation");
  if (generation.status !== "failed") throw errors.conflict("generation_state", { key: "generationNotFailed", values: { status: generation.status } });
  const retried = await retryGenerations([id], (tx) =>
    recordAudit({ actorId, action: "generation.retry", targetType: "generation", targetId: id, before: { status: "failed", error: generation.error }, after: { status: "queued" } }, tx),
  );
  if (!retried.length) throw errors.conflict("generation_state", { key: "generationNoLongerFailed" });
}

/**
 * A failed generation job retried from the queue console. A worker skips a job whose generation
 * PostgreSQL calls failed, so BullMQ's own retry would only "complete" it: the row is reopened
 * and its job added again, as retryGeneration does. false when the row is not failed (or gone),
 * where BullMQ's retry is all there is to do.
 */
export async function reopenFailedGeneration({ id, actorId }: { id: string; actorId: string }): Promise<boolean> {
  try {
    await retryGeneration({ id, actorId });
    return true;
  } catch (error) {
    if (error instanceof AppError && (error.type === "not_found" || error.type === "conflict")) return false;
    throw error;
  }
}

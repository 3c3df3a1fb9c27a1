import { db } from "../db";
import { type AppError, errors } from "../errors";
import { fill, t, type Lang } from "../i18n";

// A cap on each model's live answers in flight (queued or running), so a burst of voters cannot
// queue a model's engine hours deep. Counted from PostgreSQL, the record of every generation's
// state, when a battle or turn starts: concurrent starts may pass the cap by a few, never by a burst.

/** What a voter refused for capacity is asked to wait: live answers take seconds to finish. */
export const MODELS_BUSY_RETRY_S = 10;

/** Live answers in flight per model, for the given models (absent: none). */
export async function liveInFlight(modelIds: string[]): Promise<Map<string, number>> {
  if (!modelIds.length) return new Map();
  const rows = await db.generation.groupBy({
    by: ["modelId"],
    where: { modelId: { in: modelIds }, purpose: "live", status: { in: ["queued", "running"] } },
    _count: { _all: true },
  });
  return new Map(rows.map((r) => [r.modelId, r._count._all]));
}

/** The models among `models` that may take another live answer. */
export async function belowLiveCap<T extends { id: string }>(models: T[], cap: number): Promise<T[]> {
  const inFlight = await liveInFlight(models.map((m) => m.id));
  return models.filter((m) => (inFlight.get(m.id) ?? 0) < cap);
}

/** 503 with Retry-After: the models that could answer are all at their cap. */
export function modelsBusy(lang: Lang): AppError {
  return errors.unavailable("capacity", fill(t(lang, "modelsBusy"), { s: MODELS_BUSY_RETRY_S }), MODELS_BUSY_RETRY_S);
}

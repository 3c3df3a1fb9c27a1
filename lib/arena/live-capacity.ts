import { db } from "../db";
import { type AppError, errors } from "../errors";

// A cap on each model's live answers in flight (queued or running), so a burst of voters cannot
// queue a model's engine hours deep. Counted from PostgreSQL, the record of every generation's
// state, when a battle or turn starts: concurrent starts may pass the cap by a few, never by a burst.
// Drawn battles and named battles are counted apart, each against the cap: a voter picks a
// named battle's models, so named battles filling a model must not keep it out of the rated
// draw (and so steer which models a rated battle can get).

/** What a voter refused for capacity is asked to wait: live answers take seconds to finish. */
export const MODELS_BUSY_RETRY_S = 10;

export type LiveLane = "drawn" | "named";

/** Live answers in flight per model of battles in one lane, for the given models (absent: none). */
export async function liveInFlight(modelIds: string[], lane: LiveLane): Promise<Map<string, number>> {
  if (!modelIds.length) return new Map();
  const rows = await db.$queryRaw<{ modelId: string; n: number }[]>`
    SELECT g."modelId", COUNT(*)::int AS n
    FROM generations g
    JOIN battle_generations bg ON bg."generationId" = g.id
    JOIN battles b ON b.id = bg."battleId"
    WHERE g."modelId" = ANY(${modelIds}) AND g.purpose = 'live' AND g.status IN ('queued', 'running')
      AND (b.mode = 'named') = ${lane === "named"}
    GROUP BY g."modelId"`;
  return new Map(rows.map((r) => [r.modelId, r.n]));
}

/** The models among `models` that may take another live answer in that lane. */
export async function belowLiveCap<T extends { id: string }>(models: T[], cap: number, lane: LiveLane): Promise<T[]> {
  const inFlight = await liveInFlight(models.map((m) => m.id), lane);
  return models.filter((m) => (inFlight.get(m.id) ?? 0) < cap);
}

/** 503 with Retry-After: the models that could answer are all at their cap. */
export function modelsBusy(): AppError {
  return errors.unavailable("capacity", { key: "modelsBusy", values: { s: MODELS_BUSY_RETRY_S } }, MODELS_BUSY_RETRY_S);
}

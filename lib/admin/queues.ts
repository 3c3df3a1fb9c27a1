import type { JobType } from "bullmq";
import { db } from "../db";
import { arenaQueues, type ArenaQueue } from "../pipeline/queues";

// The queues an admin sees, on /admin/system and in the queue console (lib/web/queue-console.ts):
// what lib/pipeline/queues.ts declares, with both lanes of every model that is not retired
// (workers no longer serve a retired model, so nothing new lands on its queues).

export async function listArenaQueues(): Promise<ArenaQueue[]> {
  const models = await db.model.findMany({ where: { status: { not: "retired" } }, orderBy: { slug: "asc" }, select: { id: true, slug: true } });
  return arenaQueues(models);
}

export const COUNTED_STATES = ["waiting", "prioritized", "active", "delayed", "failed", "completed"] as const satisfies readonly JobType[];

export type CountedState = (typeof COUNTED_STATES)[number];

/** counts is null when Redis did not answer for this queue. */
export type QueueCounts = Omit<ArenaQueue, "queue"> & { counts: Record<CountedState, number> | null };

/** BullMQ's job counts of every arena queue. */
export async function queueJobCounts(): Promise<QueueCounts[]> {
  const queues = await listArenaQueues();
  return Promise.all(queues.map(async ({ queue, ...rest }): Promise<QueueCounts> => {
    try {
      const raw = await queue.getJobCounts(...COUNTED_STATES);
      const counts = Object.fromEntries(COUNTED_STATES.map((s) => [s, raw[s] ?? 0])) as Record<CountedState, number>;
      return { ...rest, counts };
    } catch {
      return { ...rest, counts: null };
    }
  }));
}

export type QueueNameTexts = Readonly<Record<"pregen" | "judge" | "ratings" | "laneLive" | "lanePregen", string>>;

/** A queue's name for an admin, in the page's language: a model's lane by its slug. */
export function queueLabel(q: Pick<ArenaQueue, "kind" | "model" | "label">, said: QueueNameTexts): string {
  if (q.kind !== "generation") return said[q.kind];
  if (!q.model) return q.label;
  return `${q.model.slug} · ${q.model.lane === "live" ? said.laneLive : said.lanePregen}`;
}

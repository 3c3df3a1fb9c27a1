import type { Prisma } from "@prisma/client";
import { db } from "../db";
import { enqueueGenerations } from "../generations";
import type { ChatMessage } from "./contracts";
import { userTurnsOf } from "../question-turns";

// Pre-generation of a multi-turn bank question goes turn by turn: the fan-out creates the
// first turn's generation, and each completed turn creates the next one — the same model,
// params and run, its messages the earlier ones plus the model's own answer and the next user
// turn, its parentId the turn it follows — in the completion's own transaction, so no one sees
// the run with nothing open between two turns. The unique index on generations.parentId makes this
// idempotent (a completion processed twice, or by the worker and the reconciler, makes one next
// turn). The reconciler creates any next turn still missing after a completed turn (one completed
// before its question had turns, say), so a chain is never stranded.

type Completed = {
  id: string;
  modelId: string;
  questionId: string | null;
  purpose: string;
  status: string;
  turn: number;
  text: string;
  messages: Prisma.JsonValue;
  params: Prisma.JsonValue;
  paramsHash: string;
  pregenRunId: string | null;
  answerSetId: string | null;
  question: { text: string; turns: Prisma.JsonValue } | null;
  pregenRun: { status: string } | null;
};

const select = {
  id: true, modelId: true, questionId: true, purpose: true, status: true, turn: true, text: true, messages: true,
  params: true, paramsHash: true, pregenRunId: true, answerSetId: true,
  question: { select: { text: true, turns: true } },
  pregenRun: { select: { status: true } },
} as const;

type Client = Prisma.TransactionClient | typeof db;
type Created = Awaited<ReturnType<typeof db.generation.createManyAndReturn>>;

/** Creates the next turn after these completed generations (not enqueued yet); returns the new rows. */
async function createNextTurns(client: Client, generations: Completed[]): Promise<Created> {
  const rows: Prisma.GenerationCreateManyInput[] = [];
  for (const g of generations) {
    if (g.status !== "completed" || g.purpose !== "pregen" || !g.question || !g.questionId || g.answerSetId) continue;
    // A cancelled run asks nothing more.
    if (g.pregenRun && g.pregenRun.status === "cancelled") continue;
    const userTurns = userTurnsOf(g.question);
    const next = g.turn + 1;
    if (next >= userTurns.length) continue;
    const messages: ChatMessage[] = [...(g.messages as unknown as ChatMessage[]), { role: "assistant", content: g.text }, { role: "user", content: userTurns[next]! }];
    rows.push({
      modelId: g.modelId,
      questionId: g.questionId,
      purpose: "pregen",
      messages: messages as unknown as Prisma.InputJsonValue,
      params: (g.params ?? {}) as Prisma.InputJsonValue,
      paramsHash: g.paramsHash,
      pregenRunId: g.pregenRunId,
      turn: next,
      parentId: g.id,
    });
  }
  if (!rows.length) return [];
  const created = await client.generation.createManyAndReturn({ data: rows, skipDuplicates: true });
  // A run settled meanwhile (the reconciler's case) counts its new turn again.
  const runs = [...new Set(created.map((g) => g.pregenRunId).filter((r): r is string => !!r))];
  if (runs.length) await client.pregenRun.updateMany({ where: { id: { in: runs }, status: "completed" }, data: { status: "running", finishedAt: null } });
  return created;
}

/**
 * The next user turn after this completed pre-generation answer, if its question has one: created
 * with `client` (the completion's transaction); the caller enqueues it after the commit. Safe to call twice.
 */
export async function createNextTurn(client: Client, generationId: string): Promise<Created> {
  const g = await client.generation.findUnique({ where: { id: generationId }, select });
  return g ? createNextTurns(client, [g]) : [];
}

/** createNextTurn and its job, outside a completion (a completion processed again). */
export async function queueNextTurn(generationId: string): Promise<boolean> {
  const created = await createNextTurn(db, generationId);
  await enqueueGenerations(created);
  return created.length > 0;
}

/**
 * Completed pre-generation turns (finished before `before`) of a multi-turn question whose next
 * turn is missing: a worker stopped between completing one and creating the other.
 */
export async function reconcileNextTurns(before: Date): Promise<number> {
  const rows = await db.$queryRaw<{ id: string }[]>`
    SELECT g.id FROM generations g JOIN questions q ON q.id = g."questionId"
    LEFT JOIN pregen_runs r ON r.id = g."pregenRunId"
    WHERE g.status = 'completed' AND g.purpose = 'pregen' AND g."answerSetId" IS NULL
      AND jsonb_typeof(q.turns) = 'array' AND jsonb_array_length(q.turns) > g.turn + 1
      AND g."finishedAt" < ${before} AND (r.id IS NULL OR r.status <> 'cancelled')
      AND NOT EXISTS (SELECT 1 FROM generations n WHERE n."parentId" = g.id)
    LIMIT 1000`;
  if (!rows.length) return 0;
  const generations = await db.generation.findMany({ where: { id: { in: rows.map((r) => r.id) } }, select });
  const created = await createNextTurns(db, generations);
  await enqueueGenerations(created);
  return created.length;
}

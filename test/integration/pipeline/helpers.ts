import { randomBytes } from "node:crypto";
import type { Model, Prisma } from "@prisma/client";
import { db } from "@/lib/db";
import { closeChannelHub } from "@/lib/pipeline/hub";
import { closeQueues } from "@/lib/pipeline/queues";
import { encryptSecret } from "@/lib/secrets";
import type { StreamMessage } from "@/lib/pipeline/contracts";
import { GenerationWorkers, type PoolOptions } from "@/workers/pool";

export const FAST_TIMEOUTS = { connectMs: 2_000, firstTokenMs: 1_500, idleMs: 800 };

const created: string[] = [];

/**
 * Removes this file's models with their generations and runs: the integration files share one
 * database, and active models with answers would join other files' battles.
 */
export async function removeCreatedModels(): Promise<void> {
  const ids = created.splice(0);
  if (!ids.length) return;
  await db.generation.deleteMany({ where: { modelId: { in: ids } } });
  await db.pregenRun.deleteMany({ where: { modelId: { in: ids } } });
  await db.model.deleteMany({ where: { id: { in: ids } } });
}

export async function createModel(input: {
  kind: "local" | "openai";
  engine: Record<string, unknown>;
  apiKey?: string;
  generationDefaults?: Record<string, unknown>;
  slug?: string;
}): Promise<Model> {
  const slug = input.slug ?? `pipe-${randomBytes(4).toString("hex")}`;
  const model = await db.model.create({
    data: {
      slug,
      displayName: slug,
      kind: input.kind,
      engine: input.engine as Prisma.InputJsonValue,
      apiKeyEncrypted: input.apiKey ? encryptSecret(input.apiKey) : null,
      generationDefaults: (input.generationDefaults ?? {}) as Prisma.InputJsonValue,
    },
  });
  created.push(model.id);
  return model;
}

export async function startWorkers(models: Model[], options: Partial<PoolOptions> = {}): Promise<GenerationWorkers> {
  const pool = new GenerationWorkers({
    workerId: `test-${randomBytes(3).toString("hex")}`,
    models: models.map((m) => m.slug),
    refreshMs: 60_000,
    lockDurationMs: 10_000,
    stalledIntervalMs: 10_000,
    defaultConcurrency: 4,
    timeouts: FAST_TIMEOUTS,
    // An engine that stays down fails its answer soon; the tests of waiting set their own.
    engineDownWaitMs: 500,
    pregen: false,
    ...options,
  });
  await pool.start();
  return pool;
}

export async function waitFor<T>(check: () => Promise<T | null | undefined | false>, timeoutMs = 15_000, what = "condition"): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function finishedGeneration(id: string, timeoutMs = 20_000) {
  return waitFor(async () => {
    const g = await db.generation.findUniqueOrThrow({ where: { id } });
    return ["completed", "failed", "cancelled"].includes(g.status) ? g : null;
  }, timeoutMs, `generation ${id} to finish`);
}

export async function collect(messages: AsyncIterable<StreamMessage>): Promise<StreamMessage[]> {
  const out: StreamMessage[] = [];
  for await (const m of messages) out.push(m);
  return out;
}

/** The text a viewer ends up with: deltas concatenated, a reset dropping what came before. */
export function textOf(messages: StreamMessage[]): string {
  let text = "";
  for (const m of messages) {
    if (m.type === "reset") text = "";
    if (m.type === "delta") text += m.text;
  }
  return text;
}

export function expectSeqsContiguous(messages: StreamMessage[], from = 1): boolean {
  return messages.every((m, i) => m.seq === from + i);
}

/** The teardown every pipeline test file ends with: shared connections closed, its models removed. */
export async function releasePipeline(): Promise<void> {
  await closeQueues();
  await closeChannelHub();
  await removeCreatedModels();
}

import { createHash } from "node:crypto";
import type { Generation, Prisma } from "@prisma/client";
import type { JobsOptions } from "bullmq";
import { db } from "./db";
import type { ChatMessage, GenerationParams, GenerationPurpose } from "./pipeline/contracts";
import { laneOf, queueOfGeneration, type GenerationJob } from "./pipeline/queues";

// Creating and enqueueing generations: the arena's live battles, admin test prompts and
// pre-generation all come through here. The job id is the generation id, so enqueueing the
// same generation twice adds one job.

export { cancelGeneration } from "./pipeline/cancel";
export { generationEvents } from "./pipeline/events";

export type NewGeneration = {
  modelId: string;
  questionId?: string | null;
  purpose: GenerationPurpose;
  messages: ChatMessage[];
  params: GenerationParams;
  pregenRunId?: string | null;
};

function stable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stable);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, v]) => [k, stable(v)]),
    );
  }
  return value;
}

/** Same params, same hash, whatever the key order: pre-generation skips answers it already has. */
export function paramsHash(params: GenerationParams): string {
  return createHash("sha256").update(JSON.stringify(stable(params))).digest("hex").slice(0, 32);
}

export function generationRowOf(input: NewGeneration): Prisma.GenerationUncheckedCreateInput {
  return {
    modelId: input.modelId,
    questionId: input.questionId ?? null,
    purpose: input.purpose,
    messages: input.messages as unknown as Prisma.InputJsonValue,
    params: input.params as unknown as Prisma.InputJsonValue,
    paramsHash: paramsHash(input.params),
    pregenRunId: input.pregenRunId ?? null,
  };
}

export async function createGeneration(input: NewGeneration): Promise<Generation> {
  return db.generation.create({ data: generationRowOf(input) });
}

type Enqueueable = Pick<Generation, "id" | "modelId" | "purpose" | "messages" | "params">;

export function generationJobOf(generation: Enqueueable): GenerationJob {
  return {
    generationId: generation.id,
    modelId: generation.modelId,
    purpose: generation.purpose,
    messages: generation.messages as unknown as ChatMessage[],
    params: generation.params as unknown as GenerationParams,
  };
}

/** `jobOptions` overrides the defaults (tests shorten retries). */
export async function enqueueGeneration(generation: Enqueueable, { jobOptions }: { jobOptions?: JobsOptions } = {}): Promise<void> {
  await queueOfGeneration(generation).add("generate", generationJobOf(generation), { ...jobOptions, jobId: generation.id });
}

/**
 * Many generations in one round trip per queue (pre-generation, retries, reconciliation). A
 * generation whose job exists already is left as it is.
 */
export async function enqueueGenerations(generations: Enqueueable[]): Promise<void> {
  const byQueue = new Map<string, Enqueueable[]>();
  for (const g of generations) {
    const key = `${g.modelId}\n${laneOf(g.purpose)}`;
    byQueue.set(key, [...(byQueue.get(key) ?? []), g]);
  }
  for (const group of byQueue.values()) {
    await queueOfGeneration(group[0]!).addBulk(group.map((g) => ({ name: "generate", data: generationJobOf(g), opts: { jobId: g.id } })));
  }
}

export async function createAndEnqueue(input: NewGeneration, options: { jobOptions?: JobsOptions } = {}): Promise<Generation> {
  const generation = await createGeneration(input);
  await enqueueGeneration(generation, options);
  return generation;
}

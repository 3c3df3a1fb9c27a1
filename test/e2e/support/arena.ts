import { randomBytes } from "node:crypto";
import { db } from "@/lib/db";
import { getModelHealth } from "@/lib/pipeline/health";
import { questionTextHash } from "@/lib/questions";

export const RUNTIME_MODELS = (process.env.LEITAI_E2E_RUNTIME_MODELS ?? "").split(",").filter(Boolean);

const tag = () => randomBytes(3).toString("hex");

/**
 * The arena for one spec: only the given models are active. `runtime` models are the ones the
 * test worker's gpu-runtime serves (live battles); `bank` models get canned answers to each of
 * `questions` questions (a voter is never served a question again once a vote from their
 * address revealed its models, so a spec that votes twice needs two).
 */
export async function arenaWith({ bank, runtime = [], questions = 1 }: { bank: { name: string; answer: string }[]; runtime?: string[]; questions?: number }) {
  await db.model.updateMany({ where: { status: "active" }, data: { status: "disabled" } });
  const category = await db.category.findFirstOrThrow({ orderBy: { sortOrder: "asc" } });
  const bankQuestions = [];
  for (let i = 0; i < questions; i++) {
    const text = `E2E ${tag()}: 用一句话介绍长城。`;
    bankQuestions.push(await db.question.create({ data: { text, textHash: questionTextHash(text), categoryId: category.id, language: "zh" } }));
  }
  const question = bankQuestions[0]!;
  const bankModels = [];
  for (const b of bank) {
    const slug = `e2e-${b.name.toLowerCase().replace(/[^a-z0-9]+/g, "-")}-${tag()}`;
    const model = await db.model.create({ data: { slug, displayName: b.name, organisation: `${b.name} Labs`, kind: "local", engine: { path: "/nonexistent" } } });
    for (const q of bankQuestions) {
      await db.generation.create({
        data: { modelId: model.id, questionId: q.id, purpose: "pregen", status: "completed", messages: [{ role: "user", content: q.text }], text: b.answer, finishedAt: new Date() },
      });
    }
    bankModels.push(model);
  }
  const runtimeModels = [];
  for (const slug of runtime) {
    runtimeModels.push(await db.model.upsert({
      where: { slug },
      create: { slug, displayName: `Runtime ${slug}`, organisation: "Leitai test", kind: "local", engine: { path: "/served-by-runtime", servedName: slug }, generationDefaults: { maxTokens: 24, temperature: 0 } },
      update: { status: "active" },
    }));
  }
  return { question, bankModels, runtimeModels };
}

/** Live battles draw only models with a fresh worker heartbeat: wait for the test worker's. */
export async function waitForHealthy(modelIds: string[], timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const health = await getModelHealth(modelIds);
    if (modelIds.every((id) => health.get(id)?.healthy)) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`models ${modelIds.join(", ")} never became healthy; is the test worker running?`);
}

/** The name the test worker's gpu-runtime serves the real model (SmolLM2-135M-Instruct) under. */
export const REAL_MODEL = process.env.LEITAI_E2E_REAL_MODEL ?? "";

/**
 * The arena for the real-model spec: only two models are active, both on the runtime's real
 * model with its own chat template — one greedy, one sampling at T 0.8 with a fixed seed.
 */
export async function realModelArena(questionText: string) {
  await db.model.updateMany({ where: { status: "active" }, data: { status: "disabled" } });
  const t = tag();
  const engine = { path: "/served-by-runtime", servedName: REAL_MODEL, chatTemplate: "model" };
  const settings = [
    { name: "greedy", generationDefaults: { temperature: 0, repetitionPenalty: 1.1, maxTokens: 40 } },
    { name: "t08", generationDefaults: { temperature: 0.8, topP: 0.95, topK: 0, repetitionPenalty: 1.1, seed: 1234, maxTokens: 40 } },
  ];
  const models = [];
  for (const s of settings) {
    models.push(await db.model.create({
      data: { slug: `e2e-real-${s.name}-${t}`, displayName: `Real ${s.name} ${t}`, organisation: `Real Labs ${t}`, kind: "local", engine, generationDefaults: s.generationDefaults },
    }));
  }
  const category = await db.category.findFirstOrThrow({ orderBy: { sortOrder: "asc" } });
  const textHash = questionTextHash(questionText);
  // Upserted: the text is fixed (the model's greedy answer to it is known), so a rerun on the same database finds it.
  const question = await db.question.upsert({
    where: { textHash },
    create: { text: questionText, textHash, categoryId: category.id, language: "en" },
    update: { active: true },
  });
  return { models, question };
}

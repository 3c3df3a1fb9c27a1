import { recordAudit } from "../audit";
import { db } from "../db";
import { errors } from "../errors";
import { createAndEnqueue } from "../generations";
import { messages, type Lang } from "../i18n";
import { generationParamsOf } from "../models/engine";

/** The prompt a test sends when the admin gives none: the one the model page shows, in the admin's language. */
export function defaultTestPrompt(lang: Lang): string {
  return messages(lang).adminModel.testPrompt;
}

/**
 * Sends a sample prompt through the real pipeline (queue → worker → engine) as a "test"
 * generation; the browser then follows /api/generations/{id}/stream.
 */
export async function startModelTest({ modelId, prompt, actorId }: { modelId: string; prompt: string; actorId: string }): Promise<{ generationId: string }> {
  const model = await db.model.findUnique({ where: { id: modelId }, select: { id: true, status: true, generationDefaults: true } });
  if (!model) throw errors.notFound("model");
  // Workers only take jobs of active models; a test of any other would wait forever.
  if (model.status !== "active") throw errors.conflict("model_inactive", { key: "modelInactive" });
  const params = generationParamsOf(model.generationDefaults);
  const generation = await createAndEnqueue({
    modelId, purpose: "test", messages: [{ role: "user", content: prompt }], params: { ...params, maxTokens: Math.min(params.maxTokens, 256) },
  });
  await recordAudit({ actorId, action: "model.test", targetType: "model", targetId: modelId, after: { generationId: generation.id } });
  return { generationId: generation.id };
}

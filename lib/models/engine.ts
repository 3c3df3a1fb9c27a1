// Shapes of Model.engine and Model.generationDefaults (JSON columns), validated on the way
// in (admin forms) and on the way out (workers), so a bad row fails with a clear message. The
// schemas live in lib/schemas/model.ts, where the admin form reads them too.

import type { z } from "zod";
import type { GenerationParams } from "../pipeline/contracts";
import { generationDefaultsSchema, type localEngineSchema, type openaiEngineSchema } from "../schemas/model";

export { chatTemplates, generationDefaultsSchema, localEngineSchema, MAX_SPECULATIVE_TOKENS, openaiEngineSchema } from "../schemas/model";

export type LocalEngine = z.infer<typeof localEngineSchema>;
export type OpenAIEngine = z.infer<typeof openaiEngineSchema>;

/** The runtime's `chat_template` request field: a template name, the custom Jinja, or null for "auto". */
export function runtimeChatTemplateOf(engine: LocalEngine): string | null {
  if (engine.chatTemplate === "auto") return null;
  if (engine.chatTemplate === "custom") return engine.chatTemplateJinja;
  return engine.chatTemplate;
}

export function generationParamsOf(defaults: unknown): GenerationParams {
  return generationDefaultsSchema.parse(defaults ?? {});
}

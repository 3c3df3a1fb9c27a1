import { z } from "zod";
import { DEFAULT_GENERATION_PARAMS, type GenerationParams } from "../pipeline/contracts";

// Shapes of Model.engine and Model.generationDefaults (JSON columns), validated on the way
// in (admin forms) and on the way out (workers), so a bad row fails with a clear message.

export const chatTemplates = ["alpaca2", "llama2-chat", "plain"] as const;

export const localEngineSchema = z.object({
  /** Hugging Face model directory or .gguf file on the runtime's machine. */
  path: z.string().min(1, "path is required"),
  dtype: z.enum(["auto", "float32", "float16", "bfloat16"]).default("auto"),
  chatTemplate: z.enum(chatTemplates).default("alpaca2"),
  systemPrompt: z.string().max(4000).nullable().default(null),
  contextLength: z.number().int().positive().nullable().default(null),
  ropeScaling: z
    .object({ type: z.enum(["linear", "dynamic", "yarn"]), factor: z.number().positive() })
    .nullable()
    .default(null),
  /** Base URL of the gpu-runtime serving it; null means the default runtime (LEITAI_RUNTIME_URL). */
  runtimeUrl: z.url().nullable().default(null),
  /** The name the runtime serves it under; null means the model's slug. */
  servedName: z.string().min(1).nullable().default(null),
});

export const openaiEngineSchema = z.object({
  baseUrl: z.url("baseUrl must be a URL such as https://host/v1"),
  remoteModel: z.string().min(1, "remoteModel is required"),
});

export type LocalEngine = z.infer<typeof localEngineSchema>;
export type OpenAIEngine = z.infer<typeof openaiEngineSchema>;

export const generationDefaultsSchema = z.object({
  temperature: z.number().min(0).max(2).default(DEFAULT_GENERATION_PARAMS.temperature),
  topP: z.number().gt(0).max(1).default(DEFAULT_GENERATION_PARAMS.topP),
  topK: z.number().int().min(0).max(1000).default(DEFAULT_GENERATION_PARAMS.topK),
  repetitionPenalty: z.number().min(0.5).max(2).default(DEFAULT_GENERATION_PARAMS.repetitionPenalty),
  maxTokens: z.number().int().min(1).max(8192).default(DEFAULT_GENERATION_PARAMS.maxTokens),
});

export function generationParamsOf(defaults: unknown): GenerationParams {
  return generationDefaultsSchema.parse(defaults ?? {});
}

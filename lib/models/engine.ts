import { z } from "zod";
import { DEFAULT_GENERATION_PARAMS, type GenerationParams } from "../pipeline/contracts";

// Shapes of Model.engine and Model.generationDefaults (JSON columns), validated on the way
// in (admin forms) and on the way out (workers), so a bad row fails with a clear message.

/**
 * "auto": send none, the runtime decides (leitai.json beside the weights, else the checkpoint's
 * own template, else by the served name); "model": the checkpoint's own Jinja template;
 * "custom": chatTemplateJinja. The other three are the runtime's built-in templates.
 */
export const chatTemplates = ["auto", "model", "alpaca2", "llama2-chat", "plain", "custom"] as const;
const CHAT_TEMPLATE_JINJA_MAX_CHARS = 20_000;
/** The runtime's MAX_SPECULATIVE_TOKENS. */
export const MAX_SPECULATIVE_TOKENS = 16;

export const localEngineSchema = z
  .object({
    /** Hugging Face model directory or .gguf file on the runtime's machine. */
    path: z.string().min(1, "path is required"),
    dtype: z.enum(["auto", "float32", "float16", "bfloat16"]).default("auto"),
    chatTemplate: z.enum(chatTemplates).default("auto"),
    /** Jinja source used when chatTemplate is "custom" (kept, unused, while another is chosen). */
    chatTemplateJinja: z.string().max(CHAT_TEMPLATE_JINJA_MAX_CHARS, `the custom chat template is longer than ${CHAT_TEMPLATE_JINJA_MAX_CHARS} characters`).nullable().default(null),
    systemPrompt: z.string().max(4000).nullable().default(null),
    contextLength: z.number().int().positive().nullable().default(null),
    ropeScaling: z
      .object({ type: z.enum(["linear", "dynamic", "yarn"]), factor: z.number().positive() })
      .nullable()
      .default(null),
    /** Base URL of the gpu-runtime serving it; null means the default runtime (LEITAI_RUNTIME_URL). */
    runtimeUrl: z.url().nullable().default(null),
    /** The name the runtime serves it under; null means the model's slug. Several models may share one. */
    servedName: z.string().min(1).nullable().default(null),
    /**
     * A draft checkpoint (same tokenizer, far fewer parameters) for speculative decoding, on the
     * runtime's machine; a worker that supervises the runtime restarts it with the draft.
     */
    draftPath: z.string().trim().min(1).max(1000).nullable().default(null),
    /** Tokens the draft proposes per step (the runtime's limit is 16). */
    numSpeculativeTokens: z
      .number()
      .int("tokens per step must be a whole number")
      .min(1, "tokens per step must be ≥ 1")
      .max(MAX_SPECULATIVE_TOKENS, `tokens per step must be ≤ ${MAX_SPECULATIVE_TOKENS}`)
      .default(4),
  })
  .superRefine((engine, ctx) => {
    if (engine.chatTemplate !== "custom") return;
    const jinja = engine.chatTemplateJinja ?? "";
    if (!jinja.trim()) {
      ctx.addIssue({ code: "custom", path: ["chatTemplateJinja"], message: "a custom chat template needs its Jinja source" });
    } else if (!jinja.includes("{{") && !jinja.includes("{%")) {
      // The runtime reads text without Jinja tags as a template name ("plain"…), not as a template.
      ctx.addIssue({ code: "custom", path: ["chatTemplateJinja"], message: "a custom chat template must be Jinja source, with {{ … }} or {% … %}" });
    }
  });

export const openaiEngineSchema = z.object({
  baseUrl: z.url("baseUrl must be a URL such as https://host/v1"),
  remoteModel: z.string().min(1, "remoteModel is required"),
});

export type LocalEngine = z.infer<typeof localEngineSchema>;
export type OpenAIEngine = z.infer<typeof openaiEngineSchema>;

/** The runtime's `chat_template` request field: a template name, the custom Jinja, or null for "auto". */
export function runtimeChatTemplateOf(engine: LocalEngine): string | null {
  if (engine.chatTemplate === "auto") return null;
  if (engine.chatTemplate === "custom") return engine.chatTemplateJinja;
  return engine.chatTemplate;
}

export const generationDefaultsSchema = z.object({
  temperature: z.number().min(0).max(2).default(DEFAULT_GENERATION_PARAMS.temperature),
  topP: z.number().gt(0).max(1).default(DEFAULT_GENERATION_PARAMS.topP),
  topK: z.number().int().min(0).max(1000).default(DEFAULT_GENERATION_PARAMS.topK),
  repetitionPenalty: z.number().min(0.5).max(2).default(DEFAULT_GENERATION_PARAMS.repetitionPenalty),
  maxTokens: z.number().int().min(1).max(8192).default(DEFAULT_GENERATION_PARAMS.maxTokens),
  /** Same seed and prompt, same answer even when sampling; absent: a fresh draw every time. */
  seed: z.number().int("seed must be a whole number").min(0, "seed must be ≥ 0").max(Number.MAX_SAFE_INTEGER).optional(),
});

export function generationParamsOf(defaults: unknown): GenerationParams {
  return generationDefaultsSchema.parse(defaults ?? {});
}

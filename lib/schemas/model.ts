import { z } from "zod";
import { DEFAULT_GENERATION_PARAMS } from "../pipeline/contracts";
import { number, numberFromText, wholeNumber } from "./fields";

// A model's settings, shared by the API (lib/models/admin.ts, lib/models/engine.ts re-export them),
// the workers that read Model.engine and the admin model form (client-safe). Messages are keys of
// the formErrors catalogue.

/**
 * "auto": send none, the runtime decides (leitai.json beside the weights, else the checkpoint's
 * own template, else by the served name); "model": the checkpoint's own Jinja template;
 * "custom": chatTemplateJinja. The other three are the runtime's built-in templates.
 */
export const chatTemplates = ["auto", "model", "alpaca2", "llama2-chat", "plain", "custom"] as const;
export const dtypes = ["auto", "float32", "float16", "bfloat16"] as const;
export const ropeTypes = ["linear", "dynamic", "yarn"] as const;
export const modelKinds = ["local", "openai", "offline"] as const;
const CHAT_TEMPLATE_JINJA_MAX_CHARS = 20_000;
/** The runtime's MAX_SPECULATIVE_TOKENS. */
export const MAX_SPECULATIVE_TOKENS = 16;

const url = () => z.url("urlFormat");

export const localEngineSchema = z
  .object({
    /** Hugging Face model directory or .gguf file on the runtime's machine. */
    path: z.string().min(1, "required"),
    dtype: z.enum(dtypes).default("auto"),
    chatTemplate: z.enum(chatTemplates).default("auto"),
    /** Jinja source used when chatTemplate is "custom" (kept, unused, while another is chosen). */
    chatTemplateJinja: z.string().max(CHAT_TEMPLATE_JINJA_MAX_CHARS, "tooLong").nullable().default(null),
    systemPrompt: z.string().max(4000, "tooLong").nullable().default(null),
    contextLength: number().int("wholeNumber").positive("mustBePositive").nullable().default(null),
    ropeScaling: z
      .object({ type: z.enum(ropeTypes), factor: number().positive("mustBePositive") })
      .nullable()
      .default(null),
    /** Base URL of the gpu-runtime serving it; null means the default runtime (LEITAI_RUNTIME_URL). */
    runtimeUrl: url().nullable().default(null),
    /** The name the runtime serves it under; null means the model's slug. Several models may share one. */
    servedName: z.string().min(1, "required").nullable().default(null),
    /**
     * A draft checkpoint (same tokenizer, far fewer parameters) for speculative decoding, on the
     * runtime's machine; a worker that supervises the runtime restarts it with the draft.
     */
    draftPath: z.string().trim().min(1, "required").max(1000, "tooLong").nullable().default(null),
    /** Tokens the draft proposes per step (the runtime's limit is 16). */
    numSpeculativeTokens: wholeNumber(1, MAX_SPECULATIVE_TOKENS).default(4),
  })
  .superRefine((engine, ctx) => {
    if (engine.chatTemplate !== "custom") return;
    const jinja = engine.chatTemplateJinja ?? "";
    if (!jinja.trim()) {
      ctx.addIssue({ code: "custom", path: ["chatTemplateJinja"], message: "customTemplateNeedsJinja" });
    } else if (!jinja.includes("{{") && !jinja.includes("{%")) {
      // The runtime reads text without Jinja tags as a template name ("plain"…), not as a template.
      ctx.addIssue({ code: "custom", path: ["chatTemplateJinja"], message: "customTemplateNotJinja" });
    }
  });

export const openaiEngineSchema = z.object({
  baseUrl: url(),
  remoteModel: z.string().min(1, "required"),
});

export const generationDefaultsSchema = z.object({
  temperature: number().min(0, "tooSmall").max(2, "tooLarge").default(DEFAULT_GENERATION_PARAMS.temperature),
  topP: number().gt(0, "mustBePositive").max(1, "tooLarge").default(DEFAULT_GENERATION_PARAMS.topP),
  topK: wholeNumber(0, 1000).default(DEFAULT_GENERATION_PARAMS.topK),
  repetitionPenalty: number().min(0.5, "tooSmall").max(2, "tooLarge").default(DEFAULT_GENERATION_PARAMS.repetitionPenalty),
  maxTokens: wholeNumber(1, 8192).default(DEFAULT_GENERATION_PARAMS.maxTokens),
  /** Same seed and prompt, same answer even when sampling; absent: a fresh draw every time. */
  seed: wholeNumber(0, Number.MAX_SAFE_INTEGER).optional(),
});

const common = {
  slug: z.string().trim().regex(/^[a-z0-9](?:[a-z0-9-]{0,62})$/, "slugFormat"),
  displayName: z.string().trim().min(1, "required").max(100, "tooLong"),
  description: z.string().max(4000, "tooLong").default(""),
  organisation: z.string().max(200, "tooLong").default(""),
  licence: z.string().max(200, "tooLong").default(""),
  link: z.union([z.literal(""), url()]).default(""),
  generationDefaults: generationDefaultsSchema.default(generationDefaultsSchema.parse({})),
  battleWeight: number().min(0, "tooSmall").max(100, "tooLarge").default(1),
};

export const modelInputSchema = z.discriminatedUnion("kind", [
  z.object({ ...common, kind: z.literal("local"), engine: localEngineSchema }),
  z.object({
    ...common,
    kind: z.literal("openai"),
    engine: openaiEngineSchema,
    /** Empty or missing on edit keeps the stored key. */
    apiKey: z.string().max(1000, "tooLong").optional(),
    clearApiKey: z.boolean().optional(),
  }),
  /** No engine: answers are imported (lib/admin/answers-import.ts); any engine config is refused. */
  z.object({ ...common, kind: z.literal("offline"), engine: z.strictObject({}, { error: "offlineNoEngine" }).default({}) }),
]);
export type ModelInput = z.infer<typeof modelInputSchema>;

export const modelStatusSchema = z.enum(["active", "disabled", "retired"]);

// The admin form keeps every box as typed (text), engine settings of every kind at once, so
// switching kind loses nothing; saving sends the chosen kind's settings, numbers read from text.

const box = z.string();
const numberBox = z.string();

export const modelFormValuesSchema = z.object({
  kind: z.enum(modelKinds),
  slug: box, displayName: box, description: box, organisation: box, licence: box, link: box,
  battleWeight: numberBox,
  engine: z.object({
    path: box, dtype: z.enum(dtypes), chatTemplate: z.enum(chatTemplates), chatTemplateJinja: box, systemPrompt: box,
    contextLength: numberBox, ropeScaling: z.object({ type: z.union([z.literal(""), z.enum(ropeTypes)]), factor: numberBox }),
    runtimeUrl: box, servedName: box, draftPath: box, numSpeculativeTokens: numberBox,
    baseUrl: box, remoteModel: box,
  }),
  generationDefaults: z.object({ temperature: numberBox, topP: numberBox, topK: numberBox, repetitionPenalty: numberBox, maxTokens: numberBox, seed: numberBox }),
  apiKey: box,
  clearApiKey: z.boolean(),
});
export type ModelFormValues = z.infer<typeof modelFormValuesSchema>;

const orNull = (text: string) => (text.trim() === "" ? null : text.trim());

/** The form's boxes as the API's input for the chosen kind. */
export function modelInputOf(form: ModelFormValues): unknown {
  const e = form.engine;
  const engine = form.kind === "offline" ? {} : form.kind === "local"
    ? {
        path: e.path.trim(),
        dtype: e.dtype,
        chatTemplate: e.chatTemplate,
        // Whitespace is part of a Jinja template: kept as typed, only an all-blank one becomes null.
        chatTemplateJinja: e.chatTemplateJinja.trim() === "" ? null : e.chatTemplateJinja,
        systemPrompt: orNull(e.systemPrompt),
        contextLength: numberFromText(e.contextLength, null),
        ropeScaling: e.ropeScaling.type ? { type: e.ropeScaling.type, factor: numberFromText(e.ropeScaling.factor, 1) } : null,
        runtimeUrl: orNull(e.runtimeUrl),
        servedName: orNull(e.servedName),
        draftPath: orNull(e.draftPath),
        numSpeculativeTokens: numberFromText(e.numSpeculativeTokens, 4),
      }
    : { baseUrl: e.baseUrl.trim(), remoteModel: e.remoteModel.trim() };
  const g = form.generationDefaults;
  return {
    kind: form.kind,
    slug: form.slug.trim(),
    displayName: form.displayName,
    description: form.description,
    organisation: form.organisation,
    licence: form.licence,
    link: form.link.trim(),
    battleWeight: numberFromText(form.battleWeight, 1),
    engine,
    generationDefaults: {
      temperature: numberFromText(g.temperature, undefined), topP: numberFromText(g.topP, undefined), topK: numberFromText(g.topK, undefined),
      repetitionPenalty: numberFromText(g.repetitionPenalty, undefined), maxTokens: numberFromText(g.maxTokens, undefined), seed: numberFromText(g.seed, undefined),
    },
    ...(form.kind === "openai" ? { apiKey: form.apiKey || undefined, clearApiKey: form.clearApiKey } : {}),
  };
}

/** The admin model form: its boxes, checked as the API checks what they become. */
export const modelFormSchema = modelFormValuesSchema.transform(modelInputOf).pipe(modelInputSchema);

import type { Model } from "@prisma/client";
import { env } from "../env";
import { localEngineSchema, openaiEngineSchema, runtimeChatTemplateOf } from "../models/engine";
import { decryptSecret } from "../secrets";
import type { ChatMessage } from "./contracts";
import type { EngineTarget } from "./engine-client";

export type EngineModel = Pick<Model, "slug" | "kind" | "engine" | "apiKeyEncrypted">;

/** Thrown when a model row cannot be turned into an engine request: retrying will not help. */
export class EngineConfigError extends Error {
  name = "EngineConfigError";
}

function runtimeApiBase(url: string): string {
  const base = url.replace(/\/+$/, "");
  return base.endsWith("/v1") ? base : `${base}/v1`;
}

export function engineTargetOf(model: EngineModel): EngineTarget {
  if (model.kind === "local") {
    const parsed = localEngineSchema.safeParse(model.engine);
    if (!parsed.success) throw new EngineConfigError(`model ${model.slug}: invalid local engine config: ${parsed.error.issues[0]?.message}`);
    return {
      baseUrl: runtimeApiBase(parsed.data.runtimeUrl ?? env().LEITAI_RUNTIME_URL),
      model: parsed.data.servedName ?? model.slug,
      extendedSampling: true,
      chatTemplate: runtimeChatTemplateOf(parsed.data),
    };
  }
  if (model.kind === "offline") throw new EngineConfigError(`model ${model.slug} is offline: it has no engine, its answers are imported`);
  const parsed = openaiEngineSchema.safeParse(model.engine);
  if (!parsed.success) throw new EngineConfigError(`model ${model.slug}: invalid engine config: ${parsed.error.issues[0]?.message}`);
  let apiKey: string | null = null;
  if (model.apiKeyEncrypted) {
    try {
      apiKey = decryptSecret(model.apiKeyEncrypted);
    } catch {
      throw new EngineConfigError(`model ${model.slug}: its API key cannot be decrypted (was LEITAI_ENCRYPTION_KEY changed?)`);
    }
  }
  return { baseUrl: parsed.data.baseUrl, model: parsed.data.remoteModel, apiKey, extendedSampling: false };
}

/** A local model's configured system prompt goes first unless the chat brings its own. */
export function engineMessagesOf(model: EngineModel, messages: ChatMessage[]): ChatMessage[] {
  if (model.kind !== "local" || messages.some((m) => m.role === "system")) return messages;
  const parsed = localEngineSchema.safeParse(model.engine);
  const systemPrompt = parsed.success ? parsed.data.systemPrompt : null;
  return systemPrompt ? [{ role: "system", content: systemPrompt }, ...messages] : messages;
}

/** A runtime base URL without a trailing slash or /v1, so two spellings of one runtime compare equal. */
export function normaliseRuntimeUrl(url: string): string {
  return url.replace(/\/+$/, "").replace(/\/v1$/, "");
}

/** The runtime base (without /v1) for health checks and metrics of a local model. */
export function runtimeUrlOf(model: { kind: Model["kind"]; engine: unknown }): string | null {
  if (model.kind !== "local") return null;
  const parsed = localEngineSchema.safeParse(model.engine);
  return normaliseRuntimeUrl((parsed.success ? parsed.data.runtimeUrl : null) ?? env().LEITAI_RUNTIME_URL);
}

import { existsSync } from "node:fs";
import { env } from "../env";
import { sayError, type ErrorMessage, type Lang } from "../i18n";
import { normaliseRuntimeUrl } from "../pipeline/engine-target";
import { runtimeChatTemplateOf, type LocalEngine, type OpenAIEngine } from "../models/engine";

// Reachability checks run when a model is saved or enabled. A model whose check fails is
// saved as disabled (never active), and the reason is returned to the admin.

/**
 * A check's verdict. `key` and `values` name its message in the errors catalogue (a value may be
 * another check message: a reason, a note), so the audit log keeps it in no language and a page
 * says it in its own; `message` is the English text (the API says it in the reader's: checkIn).
 */
export type ModelCheck = { ok: boolean; field?: string; message: string } & ErrorMessage;

export function checked(ok: boolean, said: ErrorMessage, field?: string): ModelCheck {
  return { ok, ...(field ? { field } : {}), key: said.key, values: said.values ?? {}, message: sayError("en", said) };
}

/** The check as the API answers it: its message in the reader's language. */
export function checkIn(lang: Lang, check: ModelCheck): ModelCheck {
  return { ...check, message: sayError(lang, check) };
}

const TIMEOUT_MS = 5_000;

async function listModels(url: string, apiKey?: string): Promise<{ status: number; ids: string[] }> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (apiKey) headers.authorization = `Bearer ${apiKey}`;
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(TIMEOUT_MS), cache: "no-store" });
  if (!res.ok) return { status: res.status, ids: [] };
  const body = (await res.json().catch(() => ({}))) as { data?: { id?: unknown }[] };
  const ids = Array.isArray(body.data) ? body.data.map((m) => String(m.id ?? "")) : [];
  return { status: res.status, ids };
}

function reason(error: unknown): ErrorMessage {
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) return { key: "checkNoAnswer", values: { s: TIMEOUT_MS / 1000 } };
  return { key: "checkConnectionFailed" };
}

export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, "")}/${path.replace(/^\/+/, "")}`;
}

export async function checkOpenAIModel({ engine, apiKey }: { engine: OpenAIEngine; apiKey: string | null }): Promise<ModelCheck> {
  const url = joinUrl(engine.baseUrl, "models");
  try {
    const { status, ids } = await listModels(url, apiKey ?? undefined);
    if (status === 401 || status === 403) return checked(false, { key: "checkKeyRefused", values: { url, status } }, "apiKey");
    if (status >= 400) return checked(false, { key: "checkHttpStatus", values: { url, status } }, "engine.baseUrl");
    // Hosted APIs do not always list every model they serve, so a missing name is a note, not a failure.
    const listed = ids.includes(engine.remoteModel);
    return checked(true, { key: listed ? "checkListed" : "checkNotListed", values: { model: engine.remoteModel } });
  } catch (error) {
    return checked(false, { key: "checkUnreachable", values: { url, reason: reason(error) } }, "engine.baseUrl");
  }
}

export function isThisMachine(url: string): boolean {
  const host = new URL(url).hostname;
  return host === "localhost" || host === "127.0.0.1" || host === "::1" || host === "[::1]";
}

/**
 * The runtime's verdict on a chat template, from a 1-token streamed request: it renders the
 * prompt before it queues the sequence, so a bad template is a 400 at once, even when busy.
 * Returns the runtime's message for a 400, else null (anything else is not the template's fault).
 */
async function chatTemplateRejection(runtime: string, served: string, chatTemplate: string): Promise<string | null> {
  const res = await fetch(joinUrl(runtime, "v1/chat/completions"), {
    method: "POST",
    headers: { "content-type": "application/json", accept: "text/event-stream" },
    body: JSON.stringify({ model: served, messages: [{ role: "user", content: "hi" }], max_tokens: 1, stream: true, chat_template: chatTemplate }),
    signal: AbortSignal.timeout(TIMEOUT_MS),
    cache: "no-store",
  });
  if (res.status !== 400) {
    // Closing the stream makes the runtime drop the sequence: the token is not needed.
    await res.body?.cancel().catch(() => undefined);
    return null;
  }
  const body = (await res.json().catch(() => ({}))) as { error?: { message?: unknown } };
  return typeof body.error?.message === "string" ? body.error.message : "HTTP 400";
}

/** A model the runtime lists. Built-in templates always apply; the checkpoint's own (it may have none) and custom Jinja may not. */
async function checkServedModel(runtime: string, served: string, engine: LocalEngine): Promise<ModelCheck> {
  const chatTemplate = runtimeChatTemplateOf(engine);
  if (!chatTemplate || (engine.chatTemplate !== "model" && engine.chatTemplate !== "custom")) return checked(true, { key: "checkServes", values: { runtime, served } });
  let rejection: string | null;
  try {
    rejection = await chatTemplateRejection(runtime, served, chatTemplate);
  } catch (error) {
    return checked(true, { key: "checkTemplateUnchecked", values: { runtime, served, reason: reason(error) } });
  }
  if (rejection) return checked(false, { key: "checkTemplateRejected", values: { runtime, rejection } }, "engine.chatTemplate");
  return checked(true, { key: "checkTemplateAccepted", values: { runtime, served } });
}

export async function checkLocalModel({ engine, slug }: { engine: LocalEngine; slug: string }): Promise<ModelCheck> {
  const runtime = normaliseRuntimeUrl(engine.runtimeUrl ?? env().LEITAI_RUNTIME_URL);
  const served = engine.servedName ?? slug;
  const url = joinUrl(runtime, "v1/models");
  let note: ErrorMessage;
  try {
    const { status, ids } = await listModels(url);
    if (status < 400 && ids.includes(served)) return await checkServedModel(runtime, served, engine);
    note = status >= 400
      ? { key: "checkRuntimeHttp", values: { url, status } }
      : { key: "checkRuntimeNotListed", values: { runtime, served, listed: ids.length ? ids.join(", ") : { key: "checkNothing" } } };
  } catch (error) {
    note = { key: "checkRuntimeUnreachable", values: { runtime, reason: reason(error) } };
  }
  // A runtime on this machine can still load the weights when it next starts.
  if (isThisMachine(runtime) && existsSync(engine.path)) return checked(true, { key: "checkPathLoadable", values: { note } });
  if (isThisMachine(runtime)) return checked(false, { key: "checkPathMissing", values: { note, path: engine.path } }, "engine.path");
  return checked(false, { key: "checkRemoteRuntime", values: { note } }, "engine.servedName");
}

import { existsSync } from "node:fs";
import { env } from "../env";
import { normaliseRuntimeUrl } from "../pipeline/engine-target";
import { runtimeChatTemplateOf, type LocalEngine, type OpenAIEngine } from "../models/engine";

// Reachability checks run when a model is saved or enabled. A model whose check fails is
// saved as disabled (never active), and the reason is returned to the admin.

export type ModelCheck = { ok: boolean; message: string; field?: string };

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

function reason(error: unknown): string {
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) return `no answer within ${TIMEOUT_MS / 1000} s`;
  return "connection failed";
}

export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, "")}/${path.replace(/^\/+/, "")}`;
}

export async function checkOpenAIModel({ engine, apiKey }: { engine: OpenAIEngine; apiKey: string | null }): Promise<ModelCheck> {
  const url = joinUrl(engine.baseUrl, "models");
  try {
    const { status, ids } = await listModels(url, apiKey ?? undefined);
    if (status === 401 || status === 403) return { ok: false, field: "apiKey", message: `${url} refused the API key (HTTP ${status}).` };
    if (status >= 400) return { ok: false, field: "engine.baseUrl", message: `${url} answered HTTP ${status}.` };
    // Hosted APIs do not always list every model they serve, so a missing name is a note, not a failure.
    const listed = ids.includes(engine.remoteModel);
    return { ok: true, message: listed ? `reachable; lists ${engine.remoteModel}` : `reachable; ${engine.remoteModel} is not in its /models list` };
  } catch (error) {
    return { ok: false, field: "engine.baseUrl", message: `${url} is not reachable: ${reason(error)}.` };
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
  const serves = `the runtime at ${runtime} serves ${served}`;
  const chatTemplate = runtimeChatTemplateOf(engine);
  if (!chatTemplate || (engine.chatTemplate !== "model" && engine.chatTemplate !== "custom")) return { ok: true, message: serves };
  let rejection: string | null;
  try {
    rejection = await chatTemplateRejection(runtime, served, chatTemplate);
  } catch (error) {
    return { ok: true, message: `${serves}; its chat template was not checked (${reason(error)})` };
  }
  if (rejection) return { ok: false, field: "engine.chatTemplate", message: `the runtime at ${runtime} rejects the chat template: ${rejection}` };
  return { ok: true, message: `${serves} and accepts its chat template` };
}

export async function checkLocalModel({ engine, slug }: { engine: LocalEngine; slug: string }): Promise<ModelCheck> {
  const runtime = normaliseRuntimeUrl(engine.runtimeUrl ?? env().LEITAI_RUNTIME_URL);
  const served = engine.servedName ?? slug;
  const url = joinUrl(runtime, "v1/models");
  let runtimeNote: string;
  try {
    const { status, ids } = await listModels(url);
    if (status < 400 && ids.includes(served)) return await checkServedModel(runtime, served, engine);
    runtimeNote = status >= 400 ? `${url} answered HTTP ${status}` : `the runtime at ${runtime} does not list ${served} (it lists: ${ids.join(", ") || "nothing"})`;
  } catch (error) {
    runtimeNote = `the runtime at ${runtime} is not reachable: ${reason(error)}`;
  }
  // A runtime on this machine can still load the weights when it next starts.
  if (isThisMachine(runtime) && existsSync(engine.path)) {
    return { ok: true, message: `${runtimeNote}; the path exists on this machine, so the runtime can load it` };
  }
  if (isThisMachine(runtime)) {
    return { ok: false, field: "engine.path", message: `${runtimeNote}, and ${engine.path} does not exist on this machine.` };
  }
  return { ok: false, field: "engine.servedName", message: `${runtimeNote}.` };
}

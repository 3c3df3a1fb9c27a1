import { existsSync } from "node:fs";
import { env } from "../env";
import type { LocalEngine, OpenAIEngine } from "../models/engine";

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

function isThisMachine(url: string): boolean {
  const host = new URL(url).hostname;
  return host === "localhost" || host === "127.0.0.1" || host === "::1" || host === "[::1]";
}

export async function checkLocalModel({ engine, slug }: { engine: LocalEngine; slug: string }): Promise<ModelCheck> {
  const runtime = (engine.runtimeUrl ?? env().LEITAI_RUNTIME_URL).replace(/\/+$/, "").replace(/\/v1$/, "");
  const served = engine.servedName ?? slug;
  const url = joinUrl(runtime, "v1/models");
  let runtimeNote: string;
  try {
    const { status, ids } = await listModels(url);
    if (status < 400 && ids.includes(served)) return { ok: true, message: `the runtime at ${runtime} serves ${served}` };
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

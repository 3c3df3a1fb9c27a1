import path from "node:path";
import type { Model } from "@prisma/client";
import { env } from "../env";
import { localEngineSchema } from "../models/engine";
import { runtimeUrlOf } from "../pipeline/engine-target";
import { joinUrl } from "./model-check";

// What the admin's model page says about speculative decoding: the draft set here next to the
// one the runtime reports running (GET /v1/models), so a change not yet applied, or a draft the
// runtime could not load, is visible.

export type DraftStatus = {
  state: "running" | "pending" | "failed" | "elsewhere" | "unknown";
  message: string;
  configured: { path: string; numSpeculativeTokens: number } | null;
  /** From the runtime, while it runs a draft. */
  acceptanceRate?: number | null;
  tokensPerStep?: number;
  active?: boolean;
};

type Card = {
  id?: string;
  speculative?: { draft?: string; num_speculative_tokens?: number; active?: boolean; acceptance_rate?: number | null; tokens_per_step?: number; error?: string };
};

const TIMEOUT_MS = 2_000;

function draftName(p: string): string {
  const base = path.basename(p.replace(/\/+$/, ""));
  return /\.(gguf|safetensors)$/i.test(base) ? base.replace(/\.[^.]+$/, "") : base;
}

/** null for a model with no draft set that the runtime runs plainly (or for an openai model). */
export async function draftStatusOf(model: { slug: string; kind: Model["kind"]; engine: unknown }): Promise<DraftStatus | null> {
  if (model.kind !== "local") return null;
  const parsed = localEngineSchema.safeParse(model.engine);
  if (!parsed.success) return null;
  const engine = parsed.data;
  const configured = engine.draftPath ? { path: engine.draftPath, numSpeculativeTokens: engine.numSpeculativeTokens } : null;
  const runtime = runtimeUrlOf(model)!;
  const served = engine.servedName ?? model.slug;
  let card: Card | undefined;
  try {
    const res = await fetch(joinUrl(runtime, "v1/models"), { signal: AbortSignal.timeout(TIMEOUT_MS), cache: "no-store" });
    const body = (await res.json()) as { data?: Card[] };
    card = body.data?.find((c) => c.id === served);
  } catch {
    card = undefined;
  }
  if (!card) {
    return configured ? { state: "unknown", configured, message: `the runtime at ${runtime} does not answer for ${served} now` } : null;
  }
  const spec = card.speculative;
  if (spec?.error) return { state: "failed", configured, message: `the runtime serves ${served} without a draft: ${spec.error}` };
  const refresh = Math.round(env().LEITAI_WORKER_REFRESH_MS / 1000);
  if (!spec) {
    if (!configured) return null;
    return {
      state: "pending",
      configured,
      message: `the runtime does not run this draft yet; a worker that supervises it restarts it with the draft within ${refresh} s (a runtime started by hand needs --draft ${served}=PATH)`,
    };
  }
  const running = { acceptanceRate: spec.acceptance_rate ?? null, tokensPerStep: spec.tokens_per_step, active: spec.active };
  const what = `draft ${spec.draft}, ${spec.num_speculative_tokens} tokens per step`;
  if (!configured) return { state: "elsewhere", configured, ...running, message: `the runtime runs ${served} with ${what}, set by another model that shares it or on the runtime's command line` };
  if (spec.draft !== draftName(configured.path) || spec.num_speculative_tokens !== configured.numSpeculativeTokens) {
    return { state: "pending", configured, ...running, message: `the runtime still runs ${what}; it restarts with the new one within ${refresh} s when a worker supervises it` };
  }
  return { state: "running", configured, ...running, message: `the runtime runs ${what}` };
}

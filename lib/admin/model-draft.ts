import path from "node:path";
import type { Model } from "@prisma/client";
import { env } from "../env";
import { fill, messages } from "../i18n";
import { localEngineSchema } from "../models/engine";
import { runtimeUrlOf } from "../pipeline/engine-target";
import { joinUrl } from "./model-check";

// What the admin's model page says about speculative decoding: the draft set here next to the
// one the runtime reports running (GET /v1/models), so a change not yet applied, or a draft the
// runtime could not load, is visible.

type DraftKey = "draftUnknown" | "draftFailed" | "draftNotYet" | "draftElsewhere" | "draftStill" | "draftRunning";

export type DraftStatus = {
  state: "running" | "pending" | "failed" | "elsewhere" | "unknown";
  /** What the page says, by its key in the adminModel catalogue section and its values; `message` is the English. */
  key: DraftKey;
  values: Record<string, string | number>;
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

function said(key: DraftKey, values: Record<string, string | number>): Pick<DraftStatus, "key" | "values" | "message"> {
  return { key, values, message: fill(messages("en").adminModel[key], values) };
}

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
    return configured ? { state: "unknown", configured, ...said("draftUnknown", { runtime, served }) } : null;
  }
  const spec = card.speculative;
  if (spec?.error) return { state: "failed", configured, ...said("draftFailed", { served, error: spec.error }) };
  const refresh = Math.round(env().LEITAI_WORKER_REFRESH_MS / 1000);
  if (!spec) {
    if (!configured) return null;
    return { state: "pending", configured, ...said("draftNotYet", { refresh, served }) };
  }
  const running = { acceptanceRate: spec.acceptance_rate ?? null, tokensPerStep: spec.tokens_per_step, active: spec.active };
  const what = { draft: spec.draft ?? "", n: spec.num_speculative_tokens ?? "" };
  if (!configured) return { state: "elsewhere", configured, ...running, ...said("draftElsewhere", { served, ...what }) };
  if (spec.draft !== draftName(configured.path) || spec.num_speculative_tokens !== configured.numSpeculativeTokens) {
    return { state: "pending", configured, ...running, ...said("draftStill", { ...what, refresh }) };
  }
  return { state: "running", configured, ...running, ...said("draftRunning", what) };
}

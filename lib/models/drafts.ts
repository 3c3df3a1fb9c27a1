import type { Model } from "@prisma/client";
import { db } from "../db";
import { normaliseRuntimeUrl, runtimeUrlOf } from "../pipeline/engine-target";
import { localEngineSchema } from "./engine";

// Speculative drafts set in the admin's model settings, as the runtime takes them: one draft
// per served model (`--draft NAME=PATH --num-speculative-tokens NAME=K`). Several model rows
// may share a served model; then the most recently saved row's draft is the one that runs.

export type RuntimeDraft = { servedName: string; path: string; numSpeculativeTokens: number };
/** A row whose draft is not applied, and why. */
export type SkippedDraft = { slug: string; reason: string };

type DraftRow = Pick<Model, "slug" | "kind" | "status" | "engine" | "updatedAt">;

/**
 * The drafts a runtime at `runtimeUrl` serving `servedNames` should run. Retired and
 * openai-kind rows, rows of other runtimes and rows without a draft are ignored.
 */
export function runtimeDraftsOf(rows: DraftRow[], { runtimeUrl, servedNames }: { runtimeUrl: string; servedNames: string[] }): { drafts: RuntimeDraft[]; skipped: SkippedDraft[] } {
  const base = normaliseRuntimeUrl(runtimeUrl);
  const chosen = new Map<string, { draft: RuntimeDraft; slug: string }>();
  const skipped: SkippedDraft[] = [];
  const newestFirst = [...rows].sort((a, b) => b.updatedAt.getTime() - a.updatedAt.getTime() || a.slug.localeCompare(b.slug));
  for (const row of newestFirst) {
    if (row.kind !== "local" || row.status === "retired" || runtimeUrlOf(row) !== base) continue;
    const parsed = localEngineSchema.safeParse(row.engine);
    if (!parsed.success || !parsed.data.draftPath) continue;
    const servedName = parsed.data.servedName ?? row.slug;
    if (!servedNames.includes(servedName)) {
      skipped.push({ slug: row.slug, reason: `the supervised runtime does not serve ${servedName} (it serves: ${servedNames.join(", ") || "nothing"})` });
      continue;
    }
    const draft = { servedName, path: parsed.data.draftPath, numSpeculativeTokens: parsed.data.numSpeculativeTokens };
    const earlier = chosen.get(servedName);
    if (!earlier) chosen.set(servedName, { draft, slug: row.slug });
    else if (!sameDraft(earlier.draft, draft)) skipped.push({ slug: row.slug, reason: `${earlier.slug}, saved later, sets another draft for ${servedName}` });
  }
  const drafts = [...chosen.values()].map((c) => c.draft).sort((a, b) => a.servedName.localeCompare(b.servedName));
  return { drafts, skipped };
}

function sameDraft(a: RuntimeDraft, b: RuntimeDraft): boolean {
  return a.servedName === b.servedName && a.path === b.path && a.numSpeculativeTokens === b.numSpeculativeTokens;
}

export function sameDrafts(a: RuntimeDraft[], b: RuntimeDraft[]): boolean {
  return a.length === b.length && a.every((d, i) => sameDraft(d, b[i]!));
}

/**
 * The runtime's arguments for these drafts. A draft that cannot be loaded leaves its model
 * served without one (the runtime says why in /v1/models) instead of keeping the runtime down.
 */
export function draftArgs(drafts: RuntimeDraft[]): string[] {
  if (!drafts.length) return [];
  const args: string[] = [];
  for (const d of drafts) args.push("--draft", `${d.servedName}=${d.path}`, "--num-speculative-tokens", `${d.servedName}=${d.numSpeculativeTokens}`);
  return [...args, "--on-draft-error", "serve"];
}

/** The drafts set for a supervised runtime, read from the models table. */
export async function loadRuntimeDrafts(target: { runtimeUrl: string; servedNames: string[] }): Promise<{ drafts: RuntimeDraft[]; skipped: SkippedDraft[] }> {
  const rows = await db.model.findMany({
    where: { kind: "local", status: { not: "retired" } },
    select: { slug: true, kind: true, status: true, engine: true, updatedAt: true },
  });
  return runtimeDraftsOf(rows, target);
}

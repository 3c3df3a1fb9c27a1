import { existsSync } from "node:fs";
import type { Model, ModelStatus, Prisma } from "@prisma/client";
import { checked, checkIn, checkLocalModel, checkOpenAIModel, isThisMachine, type ModelCheck } from "../admin/model-check";
import { recordAudit } from "../audit";
import { db } from "../db";
import { AppError, errors } from "../errors";
import { runtimeUrlOf } from "../pipeline/engine-target";
import type { Lang } from "../i18n";
import { decryptSecret, encryptSecret } from "../secrets";
import { modelInputSchema, type ModelInput } from "../schemas/model";
import { localEngineSchema } from "./engine";

// Model CRUD for admins. The API key is write-only: it is encrypted on the way in and only
// ever leaves as "set" / "not set". Saving runs a reachability check; a model that fails it
// is saved as disabled (never active) and the reason is returned.

export { modelInputSchema, modelStatusSchema, type ModelInput } from "../schemas/model";

/** What the browser may see of a model. */
export type AdminModel = Omit<Model, "apiKeyEncrypted" | "engine" | "generationDefaults"> & {
  engine: Record<string, unknown>;
  generationDefaults: Record<string, unknown>;
  apiKey: "set" | "not set";
};

export function toAdminModel(row: Model): AdminModel {
  const { apiKeyEncrypted, ...rest } = row;
  return {
    ...rest,
    engine: (row.engine ?? {}) as Record<string, unknown>,
    generationDefaults: (row.generationDefaults ?? {}) as Record<string, unknown>,
    apiKey: apiKeyEncrypted ? "set" : "not set",
  };
}

/** The audit snapshot: the public view without timestamps or the online rating. */
function snapshot(row: Model) {
  const { createdAt: _c, updatedAt: _u, elo: _e, ...rest } = toAdminModel(row);
  return rest;
}

export async function battleCountsByModel(): Promise<Map<string, number>> {
  const [asA, asB] = await Promise.all([
    db.battle.groupBy({ by: ["modelAId"], _count: { _all: true } }),
    db.battle.groupBy({ by: ["modelBId"], _count: { _all: true } }),
  ]);
  const counts = new Map<string, number>();
  for (const g of asA) counts.set(g.modelAId, (counts.get(g.modelAId) ?? 0) + g._count._all);
  for (const g of asB) counts.set(g.modelBId, (counts.get(g.modelBId) ?? 0) + g._count._all);
  return counts;
}

export async function listAdminModels(): Promise<(AdminModel & { battles: number })[]> {
  const [rows, counts] = await Promise.all([db.model.findMany({ orderBy: [{ status: "asc" }, { displayName: "asc" }] }), battleCountsByModel()]);
  return rows.map((row) => ({ ...toAdminModel(row), battles: counts.get(row.id) ?? 0 }));
}

export async function getAdminModel({ id }: { id: string }): Promise<AdminModel> {
  const row = await db.model.findUnique({ where: { id } });
  if (!row) throw errors.notFound("model");
  return toAdminModel(row);
}

async function battlesOf(id: string): Promise<number> {
  return db.battle.count({ where: { OR: [{ modelAId: id }, { modelBId: id }] } });
}

async function assertSlugFree(slug: string, exceptId?: string) {
  const other = await db.model.findUnique({ where: { slug }, select: { id: true } });
  if (other && other.id !== exceptId) throw new AppError("conflict:model_slug", { key: "modelSlugTaken", values: { slug } }, { field: "slug" });
}

/**
 * A draft must exist where the runtime can read it (checked when the runtime is on this
 * machine), and a served model runs one draft: another row of it may not set a different one.
 */
async function assertDraftUsable(input: ModelInput, exceptId?: string) {
  if (input.kind !== "local" || !input.engine.draftPath) return;
  const { draftPath, numSpeculativeTokens } = input.engine;
  const runtime = runtimeUrlOf(input)!;
  if (isThisMachine(runtime) && !existsSync(draftPath)) {
    throw errors.badRequest("model_draft", { key: "modelDraftMissing", values: { draft: draftPath, runtime } }, "engine.draftPath");
  }
  const served = input.engine.servedName ?? input.slug;
  const others = await db.model.findMany({ where: { kind: "local", status: { not: "retired" }, ...(exceptId ? { id: { not: exceptId } } : {}) } });
  for (const other of others) {
    const engine = localEngineSchema.safeParse(other.engine);
    if (!engine.success || !engine.data.draftPath || runtimeUrlOf(other) !== runtime || (engine.data.servedName ?? other.slug) !== served) continue;
    if (engine.data.draftPath !== draftPath || engine.data.numSpeculativeTokens !== numSpeculativeTokens) {
      throw new AppError(
        "conflict:model_draft",
        { key: "modelDraftClash", values: { other: other.slug, served, draft: engine.data.draftPath, tokens: engine.data.numSpeculativeTokens } },
        { field: "engine.draftPath" },
      );
    }
  }
}

async function checkModel(input: ModelInput, apiKey: string | null): Promise<ModelCheck> {
  if (input.kind === "offline") return checked(true, { key: "checkOffline" });
  return input.kind === "local"
    ? checkLocalModel({ engine: input.engine, slug: input.slug })
    : checkOpenAIModel({ engine: input.engine, apiKey });
}

function columnsOf(input: ModelInput) {
  return {
    slug: input.slug,
    displayName: input.displayName,
    description: input.description,
    organisation: input.organisation,
    licence: input.licence,
    link: input.link,
    kind: input.kind,
    battleWeight: input.battleWeight,
    engine: input.engine as Prisma.InputJsonValue,
    generationDefaults: input.generationDefaults as Prisma.InputJsonValue,
  };
}

export type SavedModel = { model: AdminModel; check: ModelCheck };

/** A save's answer to the API: its check said in the reader's language. */
export function savedIn(lang: Lang, saved: SavedModel): SavedModel {
  return { ...saved, check: checkIn(lang, saved.check) };
}

export async function createModel({ input, actorId }: { input: ModelInput; actorId: string }): Promise<SavedModel> {
  await assertSlugFree(input.slug);
  await assertDraftUsable(input);
  const apiKey = input.kind === "openai" && input.apiKey ? input.apiKey : null;
  const check = await checkModel(input, apiKey);
  const row = await db.$transaction(async (tx) => {
    const created = await tx.model.create({
      data: { ...columnsOf(input), status: check.ok ? "active" : "disabled", apiKeyEncrypted: apiKey ? encryptSecret(apiKey) : null },
    });
    await recordAudit({ actorId, action: "model.create", targetType: "model", targetId: created.id, after: { ...snapshot(created), check } }, tx);
    return created;
  });
  return { model: toAdminModel(row), check };
}

export async function updateModel({ id, input, actorId }: { id: string; input: ModelInput; actorId: string }): Promise<SavedModel> {
  const before = await db.model.findUnique({ where: { id } });
  if (!before) throw errors.notFound("model");
  if (input.slug !== before.slug) {
    if ((await battlesOf(id)) > 0) throw new AppError("conflict:model_slug", { key: "modelSlugFixed" }, { field: "slug" });
    await assertSlugFree(input.slug, id);
  }
  await assertDraftUsable(input, id);
  let apiKeyEncrypted: string | null = before.apiKeyEncrypted;
  let apiKey: string | null = null;
  if (input.kind !== "openai" || input.clearApiKey) apiKeyEncrypted = null;
  else if (input.apiKey) {
    apiKey = input.apiKey;
    apiKeyEncrypted = encryptSecret(input.apiKey);
  } else if (before.apiKeyEncrypted) {
    apiKey = decryptSecret(before.apiKeyEncrypted);
  }
  const check = await checkModel(input, apiKey);
  // A failed check never leaves a model active; retired stays retired.
  const status: ModelStatus = before.status === "active" && !check.ok ? "disabled" : before.status;
  const row = await db.$transaction(async (tx) => {
    const updated = await tx.model.update({ where: { id }, data: { ...columnsOf(input), status, apiKeyEncrypted } });
    await recordAudit({ actorId, action: "model.update", targetType: "model", targetId: id, before: snapshot(before), after: { ...snapshot(updated), check } }, tx);
    return updated;
  });
  return { model: toAdminModel(row), check };
}

/** Disable takes a model out of matchmaking at once; retire freezes its rating; enable re-checks it. */
export async function setModelStatus({ id, status, actorId }: { id: string; status: ModelStatus; actorId: string }): Promise<SavedModel> {
  const before = await db.model.findUnique({ where: { id } });
  if (!before) throw errors.notFound("model");
  let check = checked(true, { key: status === "retired" ? "checkStatusRetired" : "checkStatusDisabled" });
  if (status === "active") {
    const input = modelInputSchema.parse({ ...toAdminModel(before), apiKey: undefined });
    check = await checkModel(input, before.apiKeyEncrypted ? decryptSecret(before.apiKeyEncrypted) : null);
    if (!check.ok) {
      throw new AppError("conflict:model_unreachable", { key: "modelNotEnabled", values: { reason: { key: check.key, values: check.values } } }, { field: check.field });
    }
  }
  const row = await db.$transaction(async (tx) => {
    const updated = await tx.model.update({ where: { id }, data: { status } });
    await recordAudit({ actorId, action: `model.status`, targetType: "model", targetId: id, before: { status: before.status }, after: { status } }, tx);
    return updated;
  });
  return { model: toAdminModel(row), check };
}

/** Decrypted key for server-side use (reachability checks); never returned to a browser. */
export async function modelApiKey({ id }: { id: string }): Promise<string | null> {
  const row = await db.model.findUnique({ where: { id }, select: { apiKeyEncrypted: true } });
  if (!row?.apiKeyEncrypted) return null;
  return decryptSecret(row.apiKeyEncrypted);
}

/** For pages: null instead of a 404 error (the page calls notFound()). */
/** A check as the audit log kept it: one from before checks were catalogued has no key. */
export type StoredCheck = Omit<ModelCheck, "key" | "values"> & Partial<Pick<ModelCheck, "key" | "values">>;

export async function findAdminModel({ id }: { id: string }): Promise<(AdminModel & { battles: number; lastCheck: StoredCheck | null }) | null> {
  const row = await db.model.findUnique({ where: { id } });
  if (!row) return null;
  const [battles, audit] = await Promise.all([
    battlesOf(id),
    db.auditLog.findFirst({ where: { targetType: "model", targetId: id, action: { in: ["model.create", "model.update"] } }, orderBy: { createdAt: "desc" } }),
  ]);
  const lastCheck = ((audit?.after ?? null) as { check?: StoredCheck } | null)?.check ?? null;
  return { ...toAdminModel(row), battles, lastCheck };
}

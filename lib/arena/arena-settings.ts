import { db } from "../db";
import type { ArenaSettingsInput } from "../schemas/arena-settings";

export { arenaSettingsInput, type ArenaSettingsInput } from "../schemas/arena-settings";

// What voters may do and see: one row, edited on /admin/settings. Read on hot paths (every
// live battle, every page that may publish an answer), so each process keeps it a few seconds.

export type ArenaSettings = ArenaSettingsInput & { updatedAt: Date | null };

export const ARENA_SETTINGS_DEFAULTS: ArenaSettings = {
  publishLivePrompts: false,
  publishAnswersInRotation: false,
  liveBattlesPerVoter: 20,
  liveBattlesPerIp: 60,
  turnsPerVoter: 60,
  turnsPerIp: 180,
  limitWindowS: 3600,
  signedInFactor: 3,
  liveInFlightPerModel: 16,
  turnMaxChars: 4000,
  conversationMaxChars: 16_000,
  signupOpen: false,
  updatedAt: null,
};

const CACHE_MS = 5_000;
let cached: { at: number; value: ArenaSettings } | null = null;

function fromRow(row: ArenaSettings & { id?: number }): ArenaSettings {
  const { id: _id, ...rest } = row;
  return rest;
}

/** The settings in force (defaults until an admin saves), at most CACHE_MS old in this process. */
export async function getArenaSettings({ fresh = false }: { fresh?: boolean } = {}): Promise<ArenaSettings> {
  if (!fresh && cached && Date.now() - cached.at < CACHE_MS) return cached.value;
  const row = await db.arenaSettings.findUnique({ where: { id: 1 } });
  const value = row ? fromRow(row) : ARENA_SETTINGS_DEFAULTS;
  cached = { at: Date.now(), value };
  return value;
}

export async function saveArenaSettings(input: ArenaSettingsInput): Promise<{ before: ArenaSettings; after: ArenaSettings }> {
  const before = await getArenaSettings({ fresh: true });
  const row = await db.arenaSettings.upsert({ where: { id: 1 }, create: { id: 1, ...input }, update: input });
  const after = fromRow(row);
  cached = { at: Date.now(), value: after };
  return { before, after };
}

import { getArenaSettings, saveArenaSettings, type ArenaSettingsInput } from "../arena/arena-settings";
import { recordAudit } from "../audit";

/** The settings as stored (not a process's few-second copy): what the admin's form starts from. */
export async function arenaSettingsForAdmin() {
  return getArenaSettings({ fresh: true });
}

/** Saves the arena settings, audited with what they were before. Other processes follow within seconds. */
export async function updateArenaSettings({ actorId, input }: { actorId: string; input: ArenaSettingsInput }) {
  const { before, after } = await saveArenaSettings(input);
  await recordAudit({ actorId, action: "arena.settings", targetType: "arena_settings", targetId: "1", before, after });
  return { settings: after };
}

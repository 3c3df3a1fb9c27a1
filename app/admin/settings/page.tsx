import { ArenaSettingsForm, type NumberField } from "@/components/admin/arena-settings-form";
import { arenaSettingsForAdmin } from "@/lib/admin/arena-settings";
import { arenaSettingsInput } from "@/lib/arena/arena-settings";
import { requireAdminPage } from "@/lib/auth/session";

export const dynamic = "force-dynamic";

const NUMBER_FIELDS: NumberField[] = [
  "liveBattlesPerVoter", "liveBattlesPerIp", "turnsPerVoter", "turnsPerIp", "limitWindowS", "signedInFactor",
  "liveInFlightPerModel", "turnMaxChars", "conversationMaxChars",
];

export default async function AdminSettingsPage() {
  await requireAdminPage("/admin/settings");
  const { updatedAt, ...settings } = await arenaSettingsForAdmin();
  // The form checks the same bounds as the API, so every field's error shows at once.
  const bounds = Object.fromEntries(NUMBER_FIELDS.map((f) => {
    const schema = arenaSettingsInput.shape[f];
    return [f, { min: schema.minValue ?? 0, max: schema.maxValue ?? Number.MAX_SAFE_INTEGER }];
  })) as Record<NumberField, { min: number; max: number }>;
  return (
    <div>
      <h1>对战设置 Arena settings</h1>
      <p className="muted small" data-testid="settings-updated">
        {updatedAt ? `上次保存 Last saved ${updatedAt.toISOString().replace("T", " ").slice(0, 19)} UTC` : "默认值，尚未保存 Defaults, never saved"}
        {" · "}各进程在几秒内生效 Every process follows within a few seconds.
      </p>
      <ArenaSettingsForm initial={settings} bounds={bounds} />
    </div>
  );
}

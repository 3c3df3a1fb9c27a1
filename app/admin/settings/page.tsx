import { ArenaSettingsForm } from "@/components/admin/arena-settings-form";
import { arenaSettingsForAdmin } from "@/lib/admin/arena-settings";
import { requireAdminPage } from "@/lib/auth/session";
import { fill, messages } from "@/lib/i18n";
import { currentLang, titleFrom } from "@/lib/lang-server";

export const dynamic = "force-dynamic";
export const generateMetadata = titleFrom("adminSettings.title");

export default async function AdminSettingsPage() {
  await requireAdminPage("/admin/settings");
  const said = messages(await currentLang()).adminSettings;
  const { updatedAt, ...settings } = await arenaSettingsForAdmin();
  return (
    <div>
      <h1>{said.title}</h1>
      <p className="muted small" data-testid="settings-updated">
        {updatedAt ? fill(said.lastSaved, { at: updatedAt.toISOString().replace("T", " ").slice(0, 19) }) : said.neverSaved}
        {" · "}{said.followNote}
      </p>
      <ArenaSettingsForm initial={settings} said={said} />
    </div>
  );
}

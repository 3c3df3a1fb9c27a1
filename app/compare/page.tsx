import { ComparePicker } from "@/components/arena/compare-picker";
import { listPickableModels } from "@/lib/arena/models";
import { messages } from "@/lib/i18n";
import { currentLang } from "@/lib/lang-server";
import { getArenaSettings } from "@/lib/arena/arena-settings";

export const dynamic = "force-dynamic";

export default async function ComparePage() {
  const lang = await currentLang();
  const models = await listPickableModels();
  return <ComparePicker m={messages(lang)} lang={lang} models={models} promptMaxChars={(await getArenaSettings()).turnMaxChars} />;
}

import { ComparePicker } from "@/components/arena/compare-picker";
import { listPickableModels } from "@/lib/arena/models";
import { messages } from "@/lib/i18n";
import { currentLang, titleFrom } from "@/lib/lang-server";
import { getArenaSettings } from "@/lib/arena/arena-settings";

export const dynamic = "force-dynamic";

export const generateMetadata = titleFrom("nav.compare");

export default async function ComparePage() {
  const lang = await currentLang();
  const { arena, errors } = messages(lang);
  const models = await listPickableModels();
  return <ComparePicker m={{ arena, errors }} lang={lang} models={models} promptMaxChars={(await getArenaSettings()).turnMaxChars} />;
}

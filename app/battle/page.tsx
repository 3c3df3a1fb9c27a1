import { BattleArena } from "@/components/arena/battle-arena";
import { listCategories } from "@/lib/arena/categories";
import { messages } from "@/lib/i18n";
import { currentLang } from "@/lib/lang-server";
import { getArenaSettings } from "@/lib/arena/arena-settings";

export const dynamic = "force-dynamic";

export default async function BattlePage() {
  const lang = await currentLang();
  const categories = await listCategories();
  return <BattleArena m={messages(lang)} lang={lang} categories={categories} promptMaxChars={(await getArenaSettings()).turnMaxChars} />;
}

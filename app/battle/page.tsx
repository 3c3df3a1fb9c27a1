import { BattleArena } from "@/components/arena/battle-arena";
import { listCategories } from "@/lib/arena/categories";
import { messages } from "@/lib/i18n";
import { currentLang, titleFrom } from "@/lib/lang-server";
import { getArenaSettings } from "@/lib/arena/arena-settings";

export const dynamic = "force-dynamic";

export const generateMetadata = titleFrom("nav.battle");

export default async function BattlePage() {
  const lang = await currentLang();
  const { arena, errors } = messages(lang);
  const categories = await listCategories();
  return <BattleArena m={{ arena, errors }} lang={lang} categories={categories} promptMaxChars={(await getArenaSettings()).turnMaxChars} />;
}

import { BattleArena } from "@/components/arena/battle-arena";
import { listCategories } from "@/lib/arena/categories";
import { env } from "@/lib/env";
import { messages } from "@/lib/i18n";
import { currentLang } from "@/lib/lang-server";

export const dynamic = "force-dynamic";

export default async function BattlePage() {
  const lang = await currentLang();
  const categories = await listCategories();
  return <BattleArena m={messages(lang)} lang={lang} categories={categories} promptMaxChars={env().LEITAI_PROMPT_MAX_CHARS} />;
}

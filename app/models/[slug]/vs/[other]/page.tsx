import { notFound } from "next/navigation";
import { BattleList } from "@/components/browse/battle-list";
import { getHeadToHead } from "@/lib/arena/browse";
import { AppError } from "@/lib/errors";
import { currentLang } from "@/lib/lang-server";
import { resolveVoter } from "@/lib/voter";

export const dynamic = "force-dynamic";

export default async function HeadToHeadPage({ params }: { params: Promise<{ slug: string; other: string }> }) {
  const { slug, other } = await params;
  const lang = await currentLang();
  const voter = await resolveVoter({ issueCookie: false });
  const page = await getHeadToHead({ slugA: slug, slugB: other, voterKey: voter?.voterKey ?? null }).catch((e) => {
    if (e instanceof AppError && e.status === 404) notFound();
    throw e;
  });
  const { a, b, record } = page;
  return (
    <div>
      <h1>{a.displayName} vs {b.displayName}</h1>
      <p data-testid="h2h-record">
        {a.displayName} {record.aWins} : {record.bWins} {b.displayName} · {lang === "zh" ? "平" : "ties"} {record.ties} · {lang === "zh" ? "都不好" : "both bad"} {record.bothBad}
      </p>
      <BattleList battles={page.battles} lang={lang} />
    </div>
  );
}

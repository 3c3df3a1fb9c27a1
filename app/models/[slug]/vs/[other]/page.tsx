import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { cache } from "react";
import { BattleList } from "@/components/browse/battle-list";
import { getHeadToHead } from "@/lib/arena/browse";
import { AppError } from "@/lib/errors";
import { fill, messages } from "@/lib/i18n";
import { currentLang } from "@/lib/lang-server";
import { resolveVoter } from "@/lib/voter";

export const dynamic = "force-dynamic";

/** The page's data, loaded once per request for its title and its body. */
const loadPage = cache(async (slugA: string, slugB: string) => {
  const voter = await resolveVoter({ issueCookie: false });
  return getHeadToHead({ slugA, slugB, voterKey: voter?.voterKey ?? null }).catch((e) => {
    if (e instanceof AppError && e.status === 404) notFound();
    throw e;
  });
});

type Params = { params: Promise<{ slug: string; other: string }> };

export async function generateMetadata({ params }: Params): Promise<Metadata> {
  const { slug, other } = await params;
  const { a, b } = await loadPage(slug, other);
  return { title: `${a.displayName} vs ${b.displayName}` };
}

export default async function HeadToHeadPage({ params }: Params) {
  const { slug, other } = await params;
  const { models: m, battles } = messages(await currentLang());
  const page = await loadPage(slug, other);
  const { a, b, record } = page;
  return (
    <div>
      <h1>{a.displayName} vs {b.displayName}</h1>
      <p data-testid="h2h-record">
        {a.displayName} {record.aWins} : {record.bWins} {b.displayName} · {fill(m.ties, { n: record.ties })} · {fill(m.bothBad, { n: record.bothBad })}
      </p>
      <BattleList battles={page.battles} m={battles} />
    </div>
  );
}

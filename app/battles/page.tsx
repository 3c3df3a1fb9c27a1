import Link from "next/link";
import { notFound } from "next/navigation";
import { BattleList } from "@/components/browse/battle-list";
import { BATTLE_OUTCOMES, battleFilterOptions, browseBattles, type BattleFilters, type BattleOutcome } from "@/lib/arena/browse";
import { AppError } from "@/lib/errors";
import { messages, nameIn } from "@/lib/i18n";
import { currentLang, titleFrom } from "@/lib/lang-server";
import { resolveVoter } from "@/lib/voter";

export const dynamic = "force-dynamic";

export const generateMetadata = titleFrom("nav.battles");

type Search = { model?: string; category?: string; outcome?: string; from?: string; to?: string; before?: string };

/** A yyyy-mm-dd day from the form, as the start of that day (UTC); anything else is ignored. */
function day(value: string | undefined, offsetDays = 0): Date | undefined {
  if (!value || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return undefined;
  const d = new Date(`${value}T00:00:00Z`);
  return Number.isNaN(d.getTime()) ? undefined : new Date(d.getTime() + offsetDays * 86_400_000);
}

export default async function BattlesPage({ searchParams }: { searchParams: Promise<Search> }) {
  const lang = await currentLang();
  const { nav, battles: m } = messages(lang);
  const search = await searchParams;
  const filters: BattleFilters = {
    model: search.model || undefined,
    category: search.category || undefined,
    outcome: BATTLE_OUTCOMES.includes(search.outcome as BattleOutcome) ? (search.outcome as BattleOutcome) : undefined,
    from: day(search.from),
    // The "to" day is included.
    to: day(search.to, 1),
  };
  const before = search.before && !Number.isNaN(Date.parse(search.before)) ? new Date(search.before) : undefined;
  const voter = await resolveVoter({ issueCookie: false });
  const [page, { models, categories }] = await Promise.all([
    browseBattles({ filters, voterKey: voter?.voterKey ?? null, before }).catch((e) => {
      if (e instanceof AppError && e.status === 404) notFound();
      throw e;
    }),
    battleFilterOptions(),
  ]);
  const outcomeLabel: Record<BattleOutcome, string> = { decisive: m.decisive, tie: m.tie, both_bad: m.bothBad };
  const nextHref = page.next ? `/battles?${new URLSearchParams({ ...Object.fromEntries(Object.entries(search).filter(([k, v]) => k !== "before" && v)), before: page.next.toISOString() })}` : null;
  return (
    <div>
      <h1>{nav.battles}</h1>
      <form method="get" className="filters card" data-testid="battle-filters">
        <label>{m.model}
          <select name="model" defaultValue={search.model ?? ""} data-testid="filter-model">
            <option value="">{m.all}</option>
            {models.map((m) => <option key={m.slug} value={m.slug}>{m.displayName}</option>)}
          </select>
        </label>
        <label>{m.category}
          <select name="category" defaultValue={search.category ?? ""} data-testid="filter-category">
            <option value="">{m.all}</option>
            {categories.map((c) => <option key={c.slug} value={c.slug}>{nameIn(lang, c)}</option>)}
          </select>
        </label>
        <label>{m.outcome}
          <select name="outcome" defaultValue={filters.outcome ?? ""} data-testid="filter-outcome">
            <option value="">{m.all}</option>
            {BATTLE_OUTCOMES.map((o) => <option key={o} value={o}>{outcomeLabel[o]}</option>)}
          </select>
        </label>
        <label>{m.from}<input type="date" name="from" defaultValue={search.from} data-testid="filter-from" /></label>
        <label>{m.to}<input type="date" name="to" defaultValue={search.to} data-testid="filter-to" /></label>
        <button type="submit" data-testid="filter-apply">{m.filter}</button>
      </form>
      <p className="muted small">{m.privacy}</p>
      <BattleList battles={page.battles} m={m} />
      {nextHref && <p><Link href={nextHref} data-testid="battles-next">{m.older}</Link></p>}
    </div>
  );
}

import Link from "next/link";
import { notFound } from "next/navigation";
import { BattleList } from "@/components/browse/battle-list";
import { BATTLE_OUTCOMES, battleFilterOptions, browseBattles, type BattleFilters, type BattleOutcome } from "@/lib/arena/browse";
import { AppError } from "@/lib/errors";
import { currentLang } from "@/lib/lang-server";
import { resolveVoter } from "@/lib/voter";

export const dynamic = "force-dynamic";

export async function generateMetadata() {
  return { title: (await currentLang()) === "zh" ? "对战记录 · 擂台" : "Battles · Leitai" };
}

type Search = { model?: string; category?: string; outcome?: string; from?: string; to?: string; before?: string };

/** A yyyy-mm-dd day from the form, as the start of that day (UTC); anything else is ignored. */
function day(value: string | undefined, offsetDays = 0): Date | undefined {
  if (!value || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return undefined;
  const d = new Date(`${value}T00:00:00Z`);
  return Number.isNaN(d.getTime()) ? undefined : new Date(d.getTime() + offsetDays * 86_400_000);
}

export default async function BattlesPage({ searchParams }: { searchParams: Promise<Search> }) {
  const lang = await currentLang();
  const zh = lang === "zh";
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
  const outcomeLabel: Record<BattleOutcome, string> = { decisive: zh ? "分出胜负" : "a winner", tie: zh ? "平局" : "tie", both_bad: zh ? "都不好" : "both bad" };
  const nextHref = page.next ? `/battles?${new URLSearchParams({ ...Object.fromEntries(Object.entries(search).filter(([k, v]) => k !== "before" && v)), before: page.next.toISOString() })}` : null;
  return (
    <div>
      <h1>{zh ? "对战记录" : "Battles"}</h1>
      <form method="get" className="filters card" data-testid="battle-filters">
        <label>{zh ? "模型" : "Model"}
          <select name="model" defaultValue={search.model ?? ""} data-testid="filter-model">
            <option value="">{zh ? "全部" : "All"}</option>
            {models.map((m) => <option key={m.slug} value={m.slug}>{m.displayName}</option>)}
          </select>
        </label>
        <label>{zh ? "类别" : "Category"}
          <select name="category" defaultValue={search.category ?? ""} data-testid="filter-category">
            <option value="">{zh ? "全部" : "All"}</option>
            {categories.map((c) => <option key={c.slug} value={c.slug}>{zh ? c.nameZh : c.nameEn}</option>)}
          </select>
        </label>
        <label>{zh ? "结果" : "Outcome"}
          <select name="outcome" defaultValue={filters.outcome ?? ""} data-testid="filter-outcome">
            <option value="">{zh ? "全部" : "All"}</option>
            {BATTLE_OUTCOMES.map((o) => <option key={o} value={o}>{outcomeLabel[o]}</option>)}
          </select>
        </label>
        <label>{zh ? "从" : "From"}<input type="date" name="from" defaultValue={search.from} data-testid="filter-from" /></label>
        <label>{zh ? "到" : "To"}<input type="date" name="to" defaultValue={search.to} data-testid="filter-to" /></label>
        <button type="submit" data-testid="filter-apply">{zh ? "筛选" : "Filter"}</button>
      </form>
      <p className="muted small">
        {zh
          ? "只列出已投票、且按隐私设置可以公开的对战：自由提问的对战仅在管理员公开自由提问时列出。"
          : "Only voted battles the privacy settings publish: battles on a voter's own prompt are listed only while the admin publishes live prompts."}
      </p>
      <BattleList battles={page.battles} lang={lang} />
      {nextHref && <p><Link href={nextHref} data-testid="battles-next">{zh ? "更早的对战 →" : "Older battles →"}</Link></p>}
    </div>
  );
}

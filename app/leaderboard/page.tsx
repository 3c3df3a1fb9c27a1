import Link from "next/link";
import { CiChart } from "@/components/leaderboard/ci-chart";
import { Heatmap } from "@/components/leaderboard/heatmap";
import { ProvisionalTable } from "@/components/leaderboard/provisional-table";
import { RankedTable } from "@/components/leaderboard/ranked-table";
import styles from "@/components/leaderboard/leaderboard.module.css";
import { getLeaderboardView } from "@/lib/arena/leaderboard-view";
import { fill, messages, nameIn } from "@/lib/i18n";
import { STYLE_FEATURES, type StyleFeature } from "@/lib/ratings/style-counts";
import { currentLang, titleFrom } from "@/lib/lang-server";

export const dynamic = "force-dynamic";

export const generateMetadata = titleFrom("nav.leaderboard");

const FEATURE_NAME = { length: "styleLength", headers: "styleHeaders", lists: "styleLists", bold: "styleBold" } as const satisfies Record<StyleFeature, string>;

export default async function LeaderboardPage({ searchParams }: { searchParams: Promise<{ category?: string; view?: string }> }) {
  const lang = await currentLang();
  const m = messages(lang).leaderboard;
  const { category, view } = await searchParams;
  const styled = view === "style";
  const run = await getLeaderboardView();
  if (!run || run.leaderboard.models.length === 0) {
    return <div className="card" data-testid="leaderboard-empty"><h1>{messages(lang).nav.leaderboard}</h1><p>{m.empty}</p></div>;
  }
  const scope = category ? run.leaderboard.categories[category] : run.leaderboard;
  const nameOf = (id: string) => run.models[id]?.displayName ?? id;
  const slugOf = (id: string) => run.models[id]?.slug ?? id;
  const style = scope?.styleControl;
  const lists = (styled ? style : scope) ?? { ranked: [], provisional: [] };
  const min = run.minBattlesRanked;
  const href = (next: { category?: string; style?: boolean }) => {
    const params = new URLSearchParams();
    if (next.category) params.set("category", next.category);
    if (next.style) params.set("view", "style");
    const query = params.toString();
    return query ? `/leaderboard?${query}` : "/leaderboard";
  };
  const anchor = run.scale.anchor;

  return (
    <div data-testid="leaderboard" data-view={styled ? "style" : "plain"}>
      <h1>{messages(lang).nav.leaderboard}</h1>
      <p className="muted" data-testid="leaderboard-meta">
        {m.updated}: {run.createdAt.toISOString().replace("T", " ").slice(0, 16)} UTC · {fill(m.voteCount, { n: run.voteCount })} · v{run.version} · <span data-testid="rating-scale">{anchor ? fill(m.scaleAnchored, { model: nameOf(anchor.model), rating: anchor.rating }) : m.scale}</span>
        {run.dedup.excludedVotes > 0 && <span data-testid="dedup-note"> · {fill(m.dedupNote, { n: run.dedup.excludedVotes })}</span>}
      </p>
      <nav className="tabs" data-testid="view-tabs">
        <Link href={href({ category })} className={!styled ? "active" : ""} data-testid="view-plain">{m.viewPlain}</Link>
        <Link href={href({ category, style: true })} className={styled ? "active" : ""} data-testid="view-style">{m.viewStyle}</Link>
      </nav>
      {styled && (
        <p className="muted small" data-testid="style-coefficients">
          {style
            ? `${m.styleExplain} ${STYLE_FEATURES.map((feature) => `${m[FEATURE_NAME[feature]]} ${style.coefficients[feature] >= 0 ? "+" : "−"}${Math.abs(style.coefficients[feature]).toFixed(2)}`).join(", ")}`
            : m.styleMissing}
        </p>
      )}
      <nav className="tabs" data-testid="category-tabs">
        <Link href={href({ style: styled })} className={!category ? "active" : ""}>{m.overall}</Link>
        {Object.entries(run.categories).filter(([slug]) => run.leaderboard.categories[slug]).map(([slug, names]) => (
          <Link key={slug} href={href({ category: slug, style: styled })} className={category === slug ? "active" : ""} data-testid={`category-tab-${slug}`}>
            {nameIn(lang, names)}
          </Link>
        ))}
      </nav>
      {lists.ranked.length > 0 ? (
        <>
          <p className={`muted small ${styles.rule}`} data-testid="leaderboard-rule">{m.rule}</p>
          <RankedTable rows={lists.ranked} m={m} view={styled ? "style" : "plain"} nameOf={nameOf} slugOf={slugOf} />
        </>
      ) : (
        <p className="card muted" data-testid="leaderboard-none-ranked">{fill(m.noneRanked, { n: min })}</p>
      )}
      {lists.provisional.length > 0 && (
        <section data-testid="provisional">
          <h2>{m.provisionalTitle}</h2>
          <p className="muted small">{fill(m.provisionalExplain, { n: min })}</p>
          <ProvisionalTable rows={lists.provisional} m={m} minBattles={min} nameOf={nameOf} slugOf={slugOf} />
        </section>
      )}
      {scope && (
        <>
          <h2>{m.ci}</h2>
          <CiChart rows={lists.ranked.map((r) => ({ ...r, name: nameOf(r.model), slug: slugOf(r.model) }))} legend={m.chartLegend} empty={m.chartEmpty} />
          <h2>{m.winMatrix}</h2>
          <Heatmap testId="win-heatmap" percent names={scope.winRateMatrix.models.map(nameOf)} slugs={scope.winRateMatrix.models.map(slugOf)} values={scope.winRateMatrix.values} />
          <h2>{m.countMatrix}</h2>
          <Heatmap testId="count-heatmap" percent={false} names={scope.battleMatrix.models.map(nameOf)} slugs={scope.battleMatrix.models.map(slugOf)} values={scope.battleMatrix.values} />
        </>
      )}
    </div>
  );
}

import Link from "next/link";
import { CiChart } from "@/components/leaderboard/ci-chart";
import { Heatmap } from "@/components/leaderboard/heatmap";
import { intervalBar, intervalLabel, intervalSpan, ratingLabel } from "@/lib/arena/rating-format";
import { getLatestRatingRun } from "@/lib/arena/ratings-job";
import { t } from "@/lib/i18n";
import { STYLE_FEATURES } from "@/lib/ratings/style-counts";
import { currentLang } from "@/lib/lang-server";

export const dynamic = "force-dynamic";

export default async function LeaderboardPage({ searchParams }: { searchParams: Promise<{ category?: string; view?: string }> }) {
  const lang = await currentLang();
  const { category, view } = await searchParams;
  const styled = view === "style";
  const run = await getLatestRatingRun();
  if (!run || run.leaderboard.models.length === 0) {
    return <div className="card" data-testid="leaderboard-empty"><h1>{t(lang, "leaderboard")}</h1><p>{t(lang, "noRatings")}</p></div>;
  }
  const scope = category ? run.leaderboard.categories[category] : run.leaderboard;
  const nameOf = (id: string) => run.models[id]?.displayName ?? id;
  const slugOf = (id: string) => run.models[id]?.slug ?? id;
  const style = scope?.styleControl;
  const rows = (styled ? style?.models : scope?.models) ?? [];
  const span = intervalSpan(rows);
  const href = (next: { category?: string; style?: boolean }) => {
    const params = new URLSearchParams();
    if (next.category) params.set("category", next.category);
    if (next.style) params.set("view", "style");
    const query = params.toString();
    return query ? `/leaderboard?${query}` : "/leaderboard";
  };
  const anchor = run.scale.anchor;

  return (
    <div>
      <h1>{t(lang, "leaderboard")}</h1>
      <p className="muted" data-testid="leaderboard-meta">
        {t(lang, "updated")}: {run.createdAt.toISOString().replace("T", " ").slice(0, 16)} UTC · {run.voteCount} {t(lang, "votes")} · v{run.version} · <span data-testid="rating-scale">{anchor ? `${t(lang, "ratingScaleAnchored")} ${nameOf(anchor.model)} = ${anchor.rating}` : t(lang, "ratingScale")}</span>
        {run.dedup.excludedVotes > 0 && <span data-testid="dedup-note"> · {run.dedup.excludedVotes} {t(lang, "dedupNote")}</span>}
      </p>
      <nav className="tabs" data-testid="view-tabs">
        <Link href={href({ category })} className={!styled ? "active" : ""} data-testid="view-plain">{t(lang, "viewPlain")}</Link>
        <Link href={href({ category, style: true })} className={styled ? "active" : ""} data-testid="view-style">{t(lang, "viewStyle")}</Link>
      </nav>
      {styled && (
        <p className="muted small" data-testid="style-coefficients">
          {style
            ? `${t(lang, "styleExplain")} ${STYLE_FEATURES.map((feature) => `${feature} ${style.coefficients[feature] >= 0 ? "+" : "−"}${Math.abs(style.coefficients[feature]).toFixed(2)}`).join(", ")}`
            : t(lang, "styleMissing")}
        </p>
      )}
      <nav className="tabs" data-testid="category-tabs">
        <Link href={href({ style: styled })} className={!category ? "active" : ""}>{t(lang, "overall")}</Link>
        {Object.entries(run.categories).filter(([slug]) => run.leaderboard.categories[slug]).map(([slug, names]) => (
          <Link key={slug} href={href({ category: slug, style: styled })} className={category === slug ? "active" : ""}>
            {lang === "zh" ? names.nameZh : names.nameEn}
          </Link>
        ))}
      </nav>
      <div className="table-wrap">
        <table className="board" data-testid="leaderboard-table" data-view={styled ? "style" : "plain"}>
          <thead>
            <tr>
              <th>{t(lang, "rank")}</th><th>{t(lang, "model")}</th><th>{t(lang, "rating")}</th><th>{t(lang, "ci")}</th>
              <th>{t(lang, "elo")}</th><th>{t(lang, "winRate")}</th><th>{t(lang, "battles")}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.model} data-testid={`leaderboard-row-${slugOf(r.model)}`}>
                <td>{r.rank}</td>
                <td>
                  <Link href={`/models/${slugOf(r.model)}`}>{nameOf(r.model)}</Link>
                  {/* Maximum likelihood on a handful of battles swings by hundreds of points. */}
                  {r.provisional && <span className="muted small" data-testid="provisional"> · {lang === "zh" ? "暂定" : "provisional"}</span>}
                </td>
                {/* A model that never lost (or never won) has no finite rating: only its bound is shown. */}
                <td data-testid={`rating-${slugOf(r.model)}`} title={r.bound ? t(lang, "unboundedRating") : undefined}>{ratingLabel(r)}</td>
                <td>
                  <div className="ci-bar" title={intervalLabel(r)}>
                    <span style={{ left: `${intervalBar(r, span).left}%`, width: `${intervalBar(r, span).width}%` }} />
                  </div>
                  <span className="small muted">{intervalLabel(r)}</span>
                </td>
                <td>{Math.round(r.elo)}</td>
                <td>{r.winRate === null ? "–" : `${(r.winRate * 100).toFixed(1)}%`}</td>
                <td data-testid={`battles-${slugOf(r.model)}`}>{r.battles}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {scope && (
        <>
          <h2>{t(lang, "ci")}</h2>
          <CiChart points={rows.map((r) => ({ name: nameOf(r.model), bt: r.bt, ciLow: r.ciLow, ciHigh: r.ciHigh }))} />
          <h2>{t(lang, "winMatrix")}</h2>
          <Heatmap testId="win-heatmap" percent names={scope.winRateMatrix.models.map(nameOf)} values={scope.winRateMatrix.values} />
          <h2>{t(lang, "countMatrix")}</h2>
          <Heatmap testId="count-heatmap" percent={false} names={scope.battleMatrix.models.map(nameOf)} values={scope.battleMatrix.values} />
        </>
      )}
    </div>
  );
}

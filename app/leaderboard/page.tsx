import Link from "next/link";
import { CiChart } from "@/components/leaderboard/ci-chart";
import { Heatmap } from "@/components/leaderboard/heatmap";
import { intervalBar, intervalLabel, intervalSpan, ratingLabel } from "@/lib/arena/rating-format";
import { getLatestRatingRun } from "@/lib/arena/ratings-job";
import { t } from "@/lib/i18n";
import { currentLang } from "@/lib/lang-server";

export const dynamic = "force-dynamic";

export default async function LeaderboardPage({ searchParams }: { searchParams: Promise<{ category?: string }> }) {
  const lang = await currentLang();
  const { category } = await searchParams;
  const run = await getLatestRatingRun();
  if (!run || run.leaderboard.models.length === 0) {
    return <div className="card" data-testid="leaderboard-empty"><h1>{t(lang, "leaderboard")}</h1><p>{t(lang, "noRatings")}</p></div>;
  }
  const scope = category ? run.leaderboard.categories[category] : run.leaderboard;
  const nameOf = (id: string) => run.models[id]?.displayName ?? id;
  const slugOf = (id: string) => run.models[id]?.slug ?? id;
  const rows = scope?.models ?? [];
  const span = intervalSpan(rows);

  return (
    <div>
      <h1>{t(lang, "leaderboard")}</h1>
      <p className="muted" data-testid="leaderboard-meta">
        {t(lang, "updated")}: {run.createdAt.toISOString().replace("T", " ").slice(0, 16)} UTC · {run.voteCount} {t(lang, "votes")} · v{run.version} · <span data-testid="rating-scale">{t(lang, "ratingScale")}</span>
      </p>
      <nav className="tabs" data-testid="category-tabs">
        <Link href="/leaderboard" className={!category ? "active" : ""}>{t(lang, "overall")}</Link>
        {Object.entries(run.categories).filter(([slug]) => run.leaderboard.categories[slug]).map(([slug, names]) => (
          <Link key={slug} href={`/leaderboard?category=${slug}`} className={category === slug ? "active" : ""}>
            {lang === "zh" ? names.nameZh : names.nameEn}
          </Link>
        ))}
      </nav>
      <div className="table-wrap">
        <table className="board" data-testid="leaderboard-table">
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

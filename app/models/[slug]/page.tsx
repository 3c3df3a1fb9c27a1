import Link from "next/link";
import { notFound } from "next/navigation";
import { BattleList } from "@/components/browse/battle-list";
import { RatingHistory } from "@/components/browse/rating-history";
import { getModelPage } from "@/lib/arena/browse";
import { intervalLabel, ratingLabel } from "@/lib/arena/rating-format";
import { AppError } from "@/lib/errors";
import { currentLang } from "@/lib/lang-server";
import { resolveVoter } from "@/lib/voter";

export const dynamic = "force-dynamic";

export default async function ModelPage({ params }: { params: Promise<{ slug: string }> }) {
  const { slug } = await params;
  const lang = await currentLang();
  const voter = await resolveVoter({ issueCookie: false });
  const page = await getModelPage({ slug, voterKey: voter?.voterKey ?? null }).catch((e) => {
    if (e instanceof AppError && e.status === 404) notFound();
    throw e;
  });
  const { model, overall } = page;
  return (
    <div>
      <h1 data-testid="model-name">{model.displayName}</h1>
      <p className="muted">{[model.organisation, model.licence].filter(Boolean).join(" · ")} {model.status === "retired" && "· retired"}</p>
      {model.description && <p>{model.description}</p>}
      {model.link && /^https?:\/\//.test(model.link) && <p><a href={model.link} rel="noopener noreferrer nofollow">{model.link}</a></p>}
      {overall && (
        <p data-testid="model-rating">
          BT {ratingLabel(overall)} ({intervalLabel(overall)}) · Elo {Math.round(overall.elo)} · {overall.rank === null ? (lang === "zh" ? "暂定" : "provisional") : `#${overall.rank}`}
          {" · "}{overall.winRate === null ? "–" : `${(overall.winRate * 100).toFixed(1)}%`} · {overall.battles} {lang === "zh" ? "场" : "battles"}
        </p>
      )}
      <h2>{lang === "zh" ? "评分历史" : "Rating history"}</h2>
      {page.history.length ? <RatingHistory points={page.history} /> : <p className="muted">–</p>}
      <h2>{lang === "zh" ? "分类评分" : "By category"}</h2>
      <div className="table-wrap">
        <table className="board">
          <tbody>
            {page.perCategory.map((c) => (
              <tr key={c.category}><td>{lang === "zh" ? c.nameZh : c.nameEn}</td><td>{ratingLabel(c)}</td><td>{intervalLabel(c)}</td><td>{c.battles}</td></tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>{lang === "zh" ? "最近对战" : "Recent battles"}</h2>
      <BattleList battles={page.battles} lang={lang} />
      <p className="muted small">{lang === "zh" ? "两两对比：" : "Head to head: "}<Link href="/leaderboard">{lang === "zh" ? "从排行榜选择" : "pick from the leaderboard"}</Link></p>
    </div>
  );
}

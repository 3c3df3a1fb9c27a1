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

/** `engine: llama.cpp · quantisation: q4_0` from an answer set's source object. */
function sourceText(source: unknown): string {
  if (typeof source !== "object" || source === null || Array.isArray(source)) return "";
  return Object.entries(source).map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`).join(" · ");
}

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
      {model.kind === "offline" && (
        <p className="notice" data-testid="model-answer-source">
          {lang === "zh" ? "离线模型：答案为导入的答案集，" : "Offline model: its answers were imported, "}
          {page.answerSet ? (
            <>
              {lang === "zh" ? `第 ${page.answerSet.version} 版，${page.answerSet.rowCount} 个答案，导入于 ` : `answer set version ${page.answerSet.version}, ${page.answerSet.rowCount} answers, imported `}
              <time dateTime={page.answerSet.createdAt.toISOString()}>{page.answerSet.createdAt.toISOString().slice(0, 10)}</time>
              {sourceText(page.answerSet.source) && <> · {lang === "zh" ? "来源" : "source"}: {sourceText(page.answerSet.source)}</>}
            </>
          ) : (lang === "zh" ? "尚未导入。" : "none yet.")}
        </p>
      )}
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
      <h2>{lang === "zh" ? "两两对比" : "Head to head"}</h2>
      {page.opponents.length ? (
        <ul data-testid="model-opponents">
          {page.opponents.map((o) => (
            <li key={o.slug}><Link href={`/models/${model.slug}/vs/${o.slug}`} data-testid={`h2h-link-${o.slug}`}>{model.displayName} vs {o.displayName}</Link> <span className="muted small">· {o.battles} {lang === "zh" ? "票" : "votes"}</span></li>
          ))}
        </ul>
      ) : <p className="muted">–</p>}
      <p className="small"><Link href={`/battles?model=${encodeURIComponent(model.slug)}`} data-testid="model-battles-link">{lang === "zh" ? "这个模型的全部对战" : "All of this model's battles"}</Link></p>
    </div>
  );
}

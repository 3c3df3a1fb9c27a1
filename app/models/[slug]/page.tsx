import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { cache } from "react";
import { BattleList } from "@/components/browse/battle-list";
import { RatingHistory } from "@/components/browse/rating-history";
import { getModelPage } from "@/lib/arena/browse";
import { intervalLabel, ratingLabel } from "@/lib/arena/rating-format";
import { AppError } from "@/lib/errors";
import { fill, messages, nameIn } from "@/lib/i18n";
import { currentLang } from "@/lib/lang-server";
import { resolveVoter } from "@/lib/voter";

export const dynamic = "force-dynamic";

/** `engine: llama.cpp · quantisation: q4_0` from an answer set's source object. */
function sourceText(source: unknown): string {
  if (typeof source !== "object" || source === null || Array.isArray(source)) return "";
  return Object.entries(source).map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`).join(" · ");
}

/** The page's data, loaded once per request for its title and its body. */
const loadPage = cache(async (slug: string) => {
  const voter = await resolveVoter({ issueCookie: false });
  return getModelPage({ slug, voterKey: voter?.voterKey ?? null }).catch((e) => {
    if (e instanceof AppError && e.status === 404) notFound();
    throw e;
  });
});

type Params = { params: Promise<{ slug: string }> };

export async function generateMetadata({ params }: Params): Promise<Metadata> {
  return { title: (await loadPage((await params).slug)).model.displayName };
}

export default async function ModelPage({ params }: Params) {
  const lang = await currentLang();
  const m = messages(lang).models;
  const page = await loadPage((await params).slug);
  const { model, overall } = page;
  return (
    <div>
      <h1 data-testid="model-name">{model.displayName}</h1>
      <p className="muted">{[model.organisation, model.licence, model.status === "retired" && m.retired].filter(Boolean).join(" · ")}</p>
      {model.description && <p>{model.description}</p>}
      {model.link && /^https?:\/\//.test(model.link) && <p><a href={model.link} rel="noopener noreferrer nofollow">{model.link}</a></p>}
      {model.kind === "offline" && (
        <p className="notice" data-testid="model-answer-source">
          {m.offlineSource}
          {page.answerSet ? (
            <>
              <span data-testid="model-answers-in-play" data-n={page.answerSet.inPlay}>{fill(m.answersInPlay, { n: page.answerSet.inPlay })}</span>
              <span data-testid="model-answer-set-latest" data-version={page.answerSet.version} data-rows={page.answerSet.rowCount}>
                {fill(m.answerSet, { version: page.answerSet.version, rows: page.answerSet.rowCount })}
              </span>
              <time dateTime={page.answerSet.createdAt.toISOString()}>{page.answerSet.createdAt.toISOString().slice(0, 10)}</time>
              {sourceText(page.answerSet.source) && <> · {m.source}: {sourceText(page.answerSet.source)}</>}
            </>
          ) : m.noAnswerSet}
        </p>
      )}
      {overall && (
        <p data-testid="model-rating">
          BT {ratingLabel(overall)} ({intervalLabel(overall)}) · Elo {Math.round(overall.elo)} · {overall.rank === null ? m.provisional : `#${overall.rank}`}
          {" · "}{overall.winRate === null ? "–" : `${(overall.winRate * 100).toFixed(1)}%`} · {fill(m.battleCount, { n: overall.battles })}
        </p>
      )}
      <h2>{m.ratingHistory}</h2>
      {page.history.length ? <RatingHistory points={page.history} names={{ bt: m.historyBt, ciLow: m.historyCiLow, ciHigh: m.historyCiHigh, elo: m.historyElo }} /> : <p className="muted">–</p>}
      <h2>{m.byCategory}</h2>
      <div className="table-wrap">
        <table className="board">
          <tbody>
            {page.perCategory.map((c) => (
              <tr key={c.category}><td>{nameIn(lang, c)}</td><td>{ratingLabel(c)}</td><td>{intervalLabel(c)}</td><td>{c.battles}</td></tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>{m.recentBattles}</h2>
      <BattleList battles={page.battles} m={messages(lang).battles} />
      <h2>{m.headToHead}</h2>
      {page.opponents.length ? (
        <ul data-testid="model-opponents">
          {page.opponents.map((o) => (
            <li key={o.slug}><Link href={`/models/${model.slug}/vs/${o.slug}`} data-testid={`h2h-link-${o.slug}`}>{model.displayName} vs {o.displayName}</Link> <span className="muted small">· {fill(m.voteCount, { n: o.battles })}</span></li>
          ))}
        </ul>
      ) : <p className="muted">–</p>}
      <p className="small"><Link href={`/battles?model=${encodeURIComponent(model.slug)}`} data-testid="model-battles-link">{m.allBattles}</Link></p>
    </div>
  );
}

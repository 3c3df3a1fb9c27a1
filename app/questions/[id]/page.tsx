import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { cache } from "react";
import { BattleList } from "@/components/browse/battle-list";
import { Markdown } from "@/components/markdown";
import { getQuestionPage } from "@/lib/arena/browse";
import { AppError } from "@/lib/errors";
import { fill, messages, nameIn } from "@/lib/i18n";
import { currentLang } from "@/lib/lang-server";
import { resolveVoter } from "@/lib/voter";

export const dynamic = "force-dynamic";

/** The page's data, loaded once per request for its title and its body. */
const loadPage = cache(async (id: string) => {
  const voter = await resolveVoter({ issueCookie: false });
  return getQuestionPage({ id, voterKey: voter?.voterKey ?? null }).catch((e) => {
    if (e instanceof AppError && e.status === 404) notFound();
    throw e;
  });
});

type Params = { params: Promise<{ id: string }> };

/** A title holds the question's start; the page holds all of it. */
const TITLE_CHARS = 40;

export async function generateMetadata({ params }: Params): Promise<Metadata> {
  const { text } = (await loadPage((await params).id)).question;
  const chars = [...text];
  const short = chars.length > TITLE_CHARS ? `${chars.slice(0, TITLE_CHARS).join("")}…` : text;
  return { title: fill(messages(await currentLang()).question.title, { text: short }) };
}

export default async function QuestionPage({ params }: Params) {
  const lang = await currentLang();
  const { question: m, battles } = messages(lang);
  const page = await loadPage((await params).id);
  return (
    <div>
      <p className="muted">{nameIn(lang, page.question.category)}</p>
      <h1 className="question">{page.question.text}</h1>
      {page.question.userTurns.length > 1 && (
        <ol className="muted" data-testid="question-turns">{page.question.userTurns.slice(1).map((t, i) => <li key={i} value={i + 2}>{t}</li>)}</ol>
      )}
      <h2>{m.answers}</h2>
      {page.answersPublished ? (
        page.answers.map((a) => (
          <article key={a.model.slug} className="card side" data-testid="question-answer">
            <header className="side-head">{a.model.displayName}</header>
            {a.turns.map((text, i) => (
              <div key={i}>{a.turns.length > 1 && <p className="muted small">{fill(m.turn, { n: i + 1 })}</p>}<Markdown text={text} /></div>
            ))}
          </article>
        ))
      ) : (
        <p className="muted" data-testid="answers-hidden">{m.hidden}</p>
      )}
      <h2>{m.battles}</h2>
      <BattleList battles={page.battles} m={battles} />
    </div>
  );
}

import { notFound } from "next/navigation";
import { BattleList } from "@/components/browse/battle-list";
import { Markdown } from "@/components/markdown";
import { getQuestionPage } from "@/lib/arena/browse";
import { AppError } from "@/lib/errors";
import { currentLang } from "@/lib/lang-server";
import { resolveVoter } from "@/lib/voter";

export const dynamic = "force-dynamic";

export default async function QuestionPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const lang = await currentLang();
  const voter = await resolveVoter({ issueCookie: false });
  const page = await getQuestionPage({ id, voterKey: voter?.voterKey ?? null }).catch((e) => {
    if (e instanceof AppError && e.status === 404) notFound();
    throw e;
  });
  return (
    <div>
      <p className="muted">{lang === "zh" ? page.question.category.nameZh : page.question.category.nameEn}</p>
      <h1 className="question">{page.question.text}</h1>
      {page.question.userTurns.length > 1 && (
        <ol className="muted" data-testid="question-turns">{page.question.userTurns.slice(1).map((t, i) => <li key={i} value={i + 2}>{t}</li>)}</ol>
      )}
      <h2>{lang === "zh" ? "各模型的回答" : "Every model's answer"}</h2>
      {page.answersPublished ? (
        page.answers.map((a) => (
          <article key={a.model.slug} className="card side" data-testid="question-answer">
            <header className="side-head">{a.model.displayName}</header>
            {a.turns.map((text, i) => (
              <div key={i}>{a.turns.length > 1 && <p className="muted small">{lang === "zh" ? `第 ${i + 1} 轮` : `Turn ${i + 1}`}</p>}<Markdown text={text} /></div>
            ))}
          </article>
        ))
      ) : (
        <p className="muted" data-testid="answers-hidden">
          {lang === "zh"
            ? "这个问题仍在评分对战中：每场对战都给出同样的回答，所以各模型的回答要等它退出对战后才公开。"
            : "This question is still served in rated battles, each with the same answers, so every model's answer is published only once it leaves them."}
        </p>
      )}
      <h2>{lang === "zh" ? "对战结果" : "How its battles went"}</h2>
      <BattleList battles={page.battles} lang={lang} />
    </div>
  );
}

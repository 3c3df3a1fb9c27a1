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
      <h2>{lang === "zh" ? "各模型的回答" : "Every model's answer"}</h2>
      {page.canSeeAnswers ? (
        page.answers.map((a) => (
          <article key={a.model.slug} className="card side"><header className="side-head">{a.model.displayName}</header><Markdown text={a.text} /></article>
        ))
      ) : (
        <p className="muted">{lang === "zh" ? "对这个问题投过票之后才能看到各模型的回答。" : "Vote on a battle of this question first; then every model's answer is shown here."}</p>
      )}
      <h2>{lang === "zh" ? "对战结果" : "How its battles went"}</h2>
      <BattleList battles={page.battles} lang={lang} />
    </div>
  );
}

import Link from "next/link";
import { Markdown } from "@/components/markdown";
import type { BattleCard } from "@/lib/arena/browse";
import type { Lang } from "@/lib/i18n";

const outcome = (b: BattleCard, lang: Lang) => {
  if (b.winner === "A") return `${b.modelA.displayName} ${lang === "zh" ? "胜" : "won"}`;
  if (b.winner === "B") return `${b.modelB.displayName} ${lang === "zh" ? "胜" : "won"}`;
  if (b.winner === "tie") return lang === "zh" ? "平局" : "tie";
  return lang === "zh" ? "都不好" : "both bad";
};

export function BattleList({ battles, lang }: { battles: BattleCard[]; lang: Lang }) {
  if (battles.length === 0) return <p className="muted">{lang === "zh" ? "还没有已投票的对战。" : "No voted battles yet."}</p>;
  return (
    <div className="battle-list">
      {battles.map((b, i) => (
        <details key={i} className="card" data-testid="battle-card">
          <summary>
            <Link href={`/models/${b.modelA.slug}`}>{b.modelA.displayName}</Link> vs <Link href={`/models/${b.modelB.slug}`}>{b.modelB.displayName}</Link>
            {" · "}<strong>{outcome(b, lang)}</strong>{!b.valid && <span className="muted"> (invalid)</span>}
            {" · "}<span className="muted">{b.prompt.slice(0, 80)}</span>
            {b.turns && b.turns.length > 1 && <span className="muted small"> · {lang === "zh" ? `${b.turns.length} 轮` : `${b.turns.length} turns`}</span>}
          </summary>
          {b.questionId && <p><Link href={`/questions/${b.questionId}`}>{lang === "zh" ? "查看问题" : "Question page"}</Link></p>}
          {b.turns ? (
            b.turns.map((t, i) => (
              <div key={i} data-testid="battle-card-turn">
                {b.turns!.length > 1 && <p className="question small"><strong>{i + 1}.</strong> {t.prompt}</p>}
                <div className="sides">
                  <article className="side"><header className="side-head">A · {b.modelA.displayName}</header><Markdown text={t.A} /></article>
                  <article className="side"><header className="side-head">B · {b.modelB.displayName}</header><Markdown text={t.B} /></article>
                </div>
              </div>
            ))
          ) : (
            <p className="muted small">{lang === "zh" ? "题库答案在该问题退出评分对战后公开（以免影响盲评）。" : "Bank answers are published once their question leaves rated battles, so they cannot unblind one."}</p>
          )}
        </details>
      ))}
    </div>
  );
}

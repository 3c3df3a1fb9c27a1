import Link from "next/link";
import { Markdown } from "@/components/markdown";
import type { BattleCard } from "@/lib/arena/browse";
import { fill, type Catalogue } from "@/lib/i18n";

type Words = Catalogue["battles"];

const outcome = (b: BattleCard, m: Words) => {
  if (b.winner === "A") return fill(m.won, { model: b.modelA.displayName });
  if (b.winner === "B") return fill(m.won, { model: b.modelB.displayName });
  if (b.winner === "tie") return m.tie;
  return m.bothBad;
};

export function BattleList({ battles, m }: { battles: BattleCard[]; m: Words }) {
  if (battles.length === 0) return <p className="muted">{m.none}</p>;
  return (
    <div className="battle-list">
      {battles.map((b, i) => (
        <details key={i} className="card" data-testid="battle-card">
          <summary>
            <Link href={`/models/${b.modelA.slug}`}>{b.modelA.displayName}</Link> vs <Link href={`/models/${b.modelB.slug}`}>{b.modelB.displayName}</Link>
            {" · "}<strong>{outcome(b, m)}</strong>{!b.valid && <span className="muted"> {m.invalid}</span>}
            {" · "}<span className="muted">{b.prompt.slice(0, 80)}</span>
            {b.turns && b.turns.length > 1 && <span className="muted small"> · {fill(m.turnCount, { n: b.turns.length })}</span>}
          </summary>
          {b.questionId && <p><Link href={`/questions/${b.questionId}`}>{m.questionPage}</Link></p>}
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
            <p className="muted small">{m.bankHidden}</p>
          )}
        </details>
      ))}
    </div>
  );
}

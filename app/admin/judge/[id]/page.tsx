import Link from "next/link";
import { notFound } from "next/navigation";
import { runCounts, runStatusText } from "@/components/admin/run-status";
import { getJudgeRunView } from "@/lib/admin/judge";
import { requireAdminPage } from "@/lib/auth/session";
import { fill, messages } from "@/lib/i18n";
import { currentLang, titleFrom } from "@/lib/lang-server";

export const dynamic = "force-dynamic";
export const generateMetadata = titleFrom("adminJudgeRun.title");

const pct = (rate: number | null | undefined) => (rate === null || rate === undefined ? "—" : `${(rate * 100).toFixed(1)}%`);
const TEMPLATE_NAMES = { pairwise: "templatePairwise", score10: "templateScore10", custom: "templateCustom" } as const;
const LANG_NAMES = { zh: "langZh", en: "langEn" } as const;

export default async function AdminJudgeRunPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  await requireAdminPage(`/admin/judge/${id}`);
  const { adminJudgeRun: said, adminJudge: judge, adminCommon: common } = messages(await currentLang());
  const run = await getJudgeRunView({ id }).catch(() => null);
  if (!run) notFound();
  const name = new Map(run.contestants.map((c) => [c.id, c.name]));
  const s = run.summary;
  const p = run.progress;
  const template = TEMPLATE_NAMES[run.template as keyof typeof TEMPLATE_NAMES];
  const lang = LANG_NAMES[run.lang as keyof typeof LANG_NAMES];
  return (
    <div>
      <p><Link href="/admin/judge">{said.back}</Link></p>
      <h1>{fill(said.heading, { version: run.version, judge: run.judge })}</h1>
      <p className="small" data-testid="judge-run-progress">
        {template ? judge[template] : run.template} · {fill(said.judgeLang, { lang: lang ? judge[lang] : run.lang })} · {runStatusText(p.status, common)} · {runCounts(p, common)} ·{" "}
        <a href={`/api/admin/judge-runs/${run.id}/verdicts?format=jsonl`}>{said.export}</a>
      </p>
      {!s && <p className="muted">{said.summaryLater}</p>}
      {s && (
        <>
          <p data-testid="judge-run-figures">
            {fill(said.positionBias, { rate: pct(s.positionBiasOverall.rate), count: s.positionBiasOverall.biased, total: s.positionBiasOverall.comparable })} ·{" "}
            {fill(said.unparseable, { rate: pct(s.unparseable.rate), count: s.unparseable.count, total: s.unparseable.total })} ·{" "}
            {fill(said.agreement, {
              rate: pct(s.agreement?.withTies.rate), count: s.agreement?.withTies.agreed ?? 0, total: s.agreement?.withTies.compared ?? 0,
              rateWithoutTies: pct(s.agreement?.withoutTies.rate),
            })}
          </p>
          <h2>{said.leaderboard}</h2>
          <table className="admin-table">
            <thead><tr><th>#</th><th>{said.colModel}</th><th>{said.colRating}</th><th>{said.colCi}</th><th>{said.colBattles}</th><th>{said.colWins}</th></tr></thead>
            <tbody>
              {s.leaderboard.map((r) => (
                <tr key={r.modelId}>
                  <td>{r.rank}</td><td data-stored>{name.get(r.modelId) ?? r.modelId}</td><td>{Number.isFinite(r.rating) ? Math.round(r.rating) : "—"}</td>
                  <td>{r.ciLow === null ? "−∞" : Math.round(r.ciLow)} – {r.ciHigh === null ? "+∞" : Math.round(r.ciHigh)}</td><td>{r.battles}</td><td>{r.wins}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {s.pairedScores.length > 0 && (
            <>
              <h2>{said.pairedScores}</h2>
              <table className="admin-table">
                <thead><tr><th>{said.colCategory}</th><th>{said.colModels}</th><th>{said.colTotals}</th><th>{said.colJudgements}</th></tr></thead>
                <tbody>
                  {s.pairedScores.map((r) => (
                    <tr key={`${r.category}-${r.first}-${r.second}`} data-testid="paired-score-row">
                      <td className="mono">{r.category ?? "—"}</td>
                      <td data-stored>{fill(said.versus, { a: name.get(r.first) ?? r.first, b: name.get(r.second) ?? r.second })}</td>
                      <td>{r.totals[0]} : {r.totals[1]}</td><td>{r.judgements}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
        </>
      )}
    </div>
  );
}

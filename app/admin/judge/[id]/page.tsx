import Link from "next/link";
import { notFound } from "next/navigation";
import { getJudgeRunView } from "@/lib/admin/judge";
import { requireAdminPage } from "@/lib/auth/session";

export const dynamic = "force-dynamic";

const pct = (rate: number | null | undefined) => (rate === null || rate === undefined ? "—" : `${(rate * 100).toFixed(1)}%`);

export default async function AdminJudgeRunPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  await requireAdminPage(`/admin/judge/${id}`);
  const run = await getJudgeRunView({ id }).catch(() => null);
  if (!run) notFound();
  const name = new Map(run.contestants.map((c) => [c.id, c.name]));
  const s = run.summary;
  const p = run.progress;
  return (
    <div>
      <p><Link href="/admin/judge">← AI 评审 AI judge</Link></p>
      <h1>评审 #{run.version} · {run.judge}</h1>
      <p className="small" data-testid="judge-run-progress">
        {run.template} · {run.lang} · {p.status} · {p.done}/{p.total} done · {p.failed} failed · {p.unparseable} unparseable ·{" "}
        <a href={`/api/admin/judge-runs/${run.id}/verdicts?format=jsonl`}>导出 Export verdicts (JSONL)</a>
      </p>
      {!s && <p className="muted">汇总在任务完成后生成。The summary appears when the run completes.</p>}
      {s && (
        <>
          <p data-testid="judge-run-figures">
            位置偏差 Position bias: {pct(s.positionBiasOverall.rate)} ({s.positionBiasOverall.biased}/{s.positionBiasOverall.comparable}) · 无法解析 Unparseable:{" "}
            {pct(s.unparseable.rate)} ({s.unparseable.count}/{s.unparseable.total}) · 与人类投票一致 Agreement with human votes:{" "}
            {pct(s.agreement?.withTies.rate)} ({s.agreement?.withTies.agreed ?? 0}/{s.agreement?.withTies.compared ?? 0}), without ties {pct(s.agreement?.withoutTies.rate)}
          </p>
          <h2>评审排行榜 Judge leaderboard</h2>
          <table className="admin-table">
            <thead><tr><th>#</th><th>模型 Model</th><th>评分 Rating</th><th>95% CI</th><th>对局 Battles</th><th>胜 Wins</th></tr></thead>
            <tbody>
              {s.leaderboard.map((r) => (
                <tr key={r.modelId}>
                  <td>{r.rank}</td><td>{name.get(r.modelId) ?? r.modelId}</td><td>{Number.isFinite(r.rating) ? Math.round(r.rating) : "—"}</td>
                  <td>{r.ciLow === null ? "−∞" : Math.round(r.ciLow)} – {r.ciHigh === null ? "+∞" : Math.round(r.ciHigh)}</td><td>{r.battles}</td><td>{r.wins}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {s.pairedScores.length > 0 && (
            <>
              <h2>成对得分 Paired scores</h2>
              <table className="admin-table">
                <thead><tr><th>类别 Category</th><th>模型 Models</th><th>总分 Totals</th><th>评审 Judgements</th></tr></thead>
                <tbody>
                  {s.pairedScores.map((r) => (
                    <tr key={`${r.category}-${r.first}-${r.second}`} data-testid="paired-score-row">
                      <td>{r.category ?? "—"}</td><td>{name.get(r.first) ?? r.first} vs {name.get(r.second) ?? r.second}</td><td>{r.totals[0]} : {r.totals[1]}</td><td>{r.judgements}</td>
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

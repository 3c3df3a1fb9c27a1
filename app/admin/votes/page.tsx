import Link from "next/link";
import { RecomputeRatings, VoteModeration } from "@/components/admin/vote-moderation";
import { ratingsStatus } from "@/lib/admin/ratings";
import { flaggedVoters, listVotes, voteFilterFromQuery, type VoteFilter } from "@/lib/admin/votes";
import { requireAdminPage } from "@/lib/auth/session";
import { listAdminModels } from "@/lib/models/admin";

export const dynamic = "force-dynamic";

type Search = Record<string, string | string[] | undefined>;

export default async function AdminVotesPage({ searchParams }: { searchParams: Promise<Search> }) {
  await requireAdminPage("/admin/votes");
  const raw = Object.fromEntries(Object.entries(await searchParams).filter(([, v]) => typeof v === "string" && v !== "")) as Record<string, string>;
  const { page: rawPage, ...rest } = raw;
  let filter: VoteFilter = {};
  let filterError: string | null = null;
  try { filter = voteFilterFromQuery(rest); } catch { filterError = "Some filter values are not valid and were ignored."; }
  const page = Math.max(1, Number(rawPage) || 1);
  const [list, models, flagged, ratings] = await Promise.all([listVotes({ filter, page }), listAdminModels(), flaggedVoters(), ratingsStatus({})]);
  const pageHref = (p: number) => `/admin/votes?${new URLSearchParams({ ...raw, page: String(p) })}`;
  const filterForClient = Object.fromEntries(Object.entries(rest).filter(([k]) => ["from", "to", "model", "voterKey", "ipHash", "valid"].includes(k)));
  return (
    <div>
      <h1>投票审核 Vote moderation</h1>
      <RecomputeRatings initial={JSON.parse(JSON.stringify(ratings))} />
      <form method="get" className="admin-form" data-testid="vote-filters">
        <label>从 From<input type="datetime-local" name="from" defaultValue={rest.from} data-testid="vote-filter-from" /></label>
        <label>到 To<input type="datetime-local" name="to" defaultValue={rest.to} data-testid="vote-filter-to" /></label>
        <label>
          模型 Model
          <select name="model" defaultValue={rest.model ?? ""} data-testid="vote-filter-model">
            <option value="">全部 All</option>
            {models.map((m) => <option key={m.id} value={m.id}>{m.displayName}</option>)}
          </select>
        </label>
        <label>投票人 Voter key<input name="voterKey" defaultValue={rest.voterKey} data-testid="vote-filter-voter" /></label>
        <label>IP hash<input name="ipHash" defaultValue={rest.ipHash} data-testid="vote-filter-ip" /></label>
        <label>
          有效 Valid
          <select name="valid" defaultValue={rest.valid ?? ""} data-testid="vote-filter-valid">
            <option value="">全部 All</option><option value="true">有效 Valid</option><option value="false">已作废 Invalid</option>
          </select>
        </label>
        <button type="submit" data-testid="vote-filter-apply">筛选 Filter</button>
      </form>
      {filterError && <p className="error">{filterError}</p>}
      <p className="muted small" data-testid="vote-total">{list.total} votes · page {list.page}/{list.pages}</p>
      <VoteModeration votes={JSON.parse(JSON.stringify(list.rows))} filter={filterForClient} total={list.total} />
      <div className="admin-row">
        {list.page > 1 && <Link href={pageHref(list.page - 1)}>← Previous</Link>}
        {list.page < list.pages && <Link href={pageHref(list.page + 1)}>Next →</Link>}
      </div>
      <h2>可疑投票人 Flagged voters</h2>
      <p className="small muted">
        对每位至少 5 张有效计分票的投票人，按其他人在同一对模型上的结果计算其投票的不可能程度（留一法、加一平滑、Σ−log p），用模拟（固定种子）估计 p 值，p &lt; 0.05 标记。
        For each voter with ≥ 5 valid rated votes: how improbable their outcomes are given everyone else&apos;s on the same model pairs
        (leave-one-voter-out, add-one smoothing, Σ −log p), p-value by seeded simulation; flagged when p &lt; 0.05. A flag asks for a look; it is not proof.
      </p>
      <div className="admin-scroll">
        <table className="admin-table" data-testid="flagged-voters">
          <thead><tr><th>投票人 Voter</th><th>票数 Votes</th><th>统计量 Σ−log p</th><th>期望 Expected</th><th>p</th></tr></thead>
          <tbody>
            {flagged.map((f) => (
              <tr key={f.voterKey} data-testid="flagged-voter">
                <td className="mono"><a href={`?voterKey=${encodeURIComponent(f.voterKey)}`}>{f.voterKey}</a></td>
                <td className="num">{f.votes}</td><td className="num">{f.statistic.toFixed(2)}</td><td className="num">{f.expected.toFixed(2)}</td><td className="num">{f.pValue.toFixed(4)}</td>
              </tr>
            ))}
            {flagged.length === 0 && <tr><td colSpan={5} className="muted">没有可疑投票人。No flagged voters.</td></tr>}
          </tbody>
        </table>
      </div>
    </div>
  );
}

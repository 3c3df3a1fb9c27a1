import Link from "next/link";
import { RecomputeRatings, VoteModeration } from "@/components/admin/vote-moderation";
import { ratingsStatus } from "@/lib/admin/ratings";
import { flaggedVoters, listVotes, voteFilterFromQuery, type VoteFilter } from "@/lib/admin/votes";
import { requireAdminPage } from "@/lib/auth/session";
import { fill, messages } from "@/lib/i18n";
import { currentLang, titleFrom } from "@/lib/lang-server";
import { listAdminModels } from "@/lib/models/admin";

export const dynamic = "force-dynamic";
export const generateMetadata = titleFrom("adminVotes.title");

type Search = Record<string, string | string[] | undefined>;

export default async function AdminVotesPage({ searchParams }: { searchParams: Promise<Search> }) {
  await requireAdminPage("/admin/votes");
  const said = messages(await currentLang()).adminVotes;
  const raw = Object.fromEntries(Object.entries(await searchParams).filter(([, v]) => typeof v === "string" && v !== "")) as Record<string, string>;
  const { page: rawPage, ...rest } = raw;
  let filter: VoteFilter = {};
  let filterInvalid = false;
  try { filter = voteFilterFromQuery(rest); } catch { filterInvalid = true; }
  const page = Math.max(1, Number(rawPage) || 1);
  const [list, models, flagged, ratings] = await Promise.all([listVotes({ filter, page }), listAdminModels(), flaggedVoters(), ratingsStatus({})]);
  const pageHref = (p: number) => `/admin/votes?${new URLSearchParams({ ...raw, page: String(p) })}`;
  const filterForClient = Object.fromEntries(Object.entries(rest).filter(([k]) => ["from", "to", "model", "voterKey", "ipHash", "valid"].includes(k)));
  return (
    <div>
      <h1>{said.title}</h1>
      <RecomputeRatings initial={JSON.parse(JSON.stringify(ratings))} said={said} />
      <form method="get" className="admin-form" data-testid="vote-filters">
        <label>{said.from}<input type="datetime-local" name="from" defaultValue={rest.from} data-testid="vote-filter-from" /></label>
        <label>{said.to}<input type="datetime-local" name="to" defaultValue={rest.to} data-testid="vote-filter-to" /></label>
        <label>
          {said.model}
          <select name="model" defaultValue={rest.model ?? ""} data-testid="vote-filter-model">
            <option value="">{said.all}</option>
            {models.map((m) => <option key={m.id} value={m.id} data-stored>{m.displayName}</option>)}
          </select>
        </label>
        <label>{said.voterKey}<input name="voterKey" defaultValue={rest.voterKey} data-testid="vote-filter-voter" /></label>
        <label>{said.ipHash}<input name="ipHash" defaultValue={rest.ipHash} data-testid="vote-filter-ip" /></label>
        <label>
          {said.valid}
          <select name="valid" defaultValue={rest.valid ?? ""} data-testid="vote-filter-valid">
            <option value="">{said.all}</option><option value="true">{said.validOnly}</option><option value="false">{said.invalidOnly}</option>
          </select>
        </label>
        <button type="submit" data-testid="vote-filter-apply">{said.filter}</button>
      </form>
      {filterInvalid && <p className="error">{said.filterInvalid}</p>}
      <p className="muted small" data-testid="vote-total">{fill(said.total, { total: list.total, page: list.page, pages: list.pages })}</p>
      <VoteModeration votes={JSON.parse(JSON.stringify(list.rows))} filter={filterForClient} total={list.total} said={said} />
      <div className="admin-row">
        {list.page > 1 && <Link href={pageHref(list.page - 1)}>{said.previous}</Link>}
        {list.page < list.pages && <Link href={pageHref(list.page + 1)}>{said.next}</Link>}
      </div>
      <h2>{said.flaggedVoters}</h2>
      <p className="small muted">{said.flaggedExplain}</p>
      <div className="admin-scroll">
        <table className="admin-table" data-testid="flagged-voters">
          <thead><tr><th>{said.colVoter}</th><th>{said.colVotes}</th><th>{said.colStatistic}</th><th>{said.colExpected}</th><th>{said.colP}</th></tr></thead>
          <tbody>
            {flagged.map((f) => (
              <tr key={f.voterKey} data-testid="flagged-voter">
                <td className="mono" data-stored><a href={`?voterKey=${encodeURIComponent(f.voterKey)}`}>{f.voterKey}</a></td>
                <td className="num">{f.votes}</td><td className="num">{f.statistic.toFixed(2)}</td><td className="num">{f.expected.toFixed(2)}</td><td className="num">{f.pValue.toFixed(4)}</td>
              </tr>
            ))}
            {flagged.length === 0 && <tr><td colSpan={5} className="muted">{said.noFlagged}</td></tr>}
          </tbody>
        </table>
      </div>
    </div>
  );
}

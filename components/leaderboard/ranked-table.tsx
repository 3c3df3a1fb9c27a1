import Link from "next/link";
import { intervalLabel, intervalSpan, ratingLabel } from "@/lib/arena/rating-format";
import type { BoardRow } from "@/lib/arena/leaderboard-view";
import type { Catalogue } from "@/lib/i18n";
import { IntervalTrack } from "./interval-track";
import styles from "./leaderboard.module.css";

type Names = { nameOf: (id: string) => string; slugOf: (id: string) => string };

/** The ranked models in leaderboard order; on phones the online Elo, the win rate and the interval bars hide. */
export function RankedTable({ rows, m, view, nameOf, slugOf }: { rows: BoardRow[]; m: Catalogue["leaderboard"]; view: "plain" | "style" } & Names) {
  const span = intervalSpan(rows);
  return (
    <div className="table-wrap">
      <table className={styles.board} data-testid="leaderboard-table" data-view={view}>
        <thead>
          <tr>
            <th className={styles.num}>{m.rank}</th><th>{m.model}</th><th className={styles.num}>{m.rating}</th>
            <th>{m.ci}</th><th className={`${styles.num} ${styles.phoneHidden}`}>{m.elo}</th>
            <th className={`${styles.num} ${styles.phoneHidden}`}>{m.winRate}</th><th className={styles.num}>{m.battles}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => {
            const slug = slugOf(r.model);
            return (
              <tr key={r.model} data-testid={`leaderboard-row-${slug}`} data-rank={r.rank}>
                <td className={styles.num} data-testid={`rank-${slug}`}>{r.rank}</td>
                <td><Link href={`/models/${slug}`} className={styles.name} title={nameOf(r.model)}>{nameOf(r.model)}</Link></td>
                {/* A model that never lost (or never won) has no finite rating: only its bound is shown. */}
                <td className={styles.num} data-testid={`rating-${slug}`} title={r.bound ? m.unbounded : undefined}>{ratingLabel(r)}</td>
                <td className={styles.interval}>
                  <IntervalTrack rating={r} span={span} />
                  <span className={`small muted ${styles.intervalLabel}`} data-testid={`interval-${slug}`}>{intervalLabel(r)}</span>
                </td>
                <td className={`${styles.num} ${styles.phoneHidden}`}>{Math.round(r.elo)}</td>
                <td className={`${styles.num} ${styles.phoneHidden}`}>{r.winRate === null ? "–" : `${(r.winRate * 100).toFixed(1)}%`}</td>
                <td className={styles.num} data-testid={`battles-${slug}`}>{r.battles}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

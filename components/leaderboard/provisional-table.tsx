import Link from "next/link";
import type { BoardRow } from "@/lib/arena/leaderboard-view";
import { fill, type Catalogue } from "@/lib/i18n";
import styles from "./leaderboard.module.css";

/** Models not ranked yet: their battles and record, no rank and no rating to compare. */
export function ProvisionalTable({ rows, m, minBattles, nameOf, slugOf }: {
  rows: BoardRow[]; m: Catalogue["leaderboard"]; minBattles: number; nameOf: (id: string) => string; slugOf: (id: string) => string;
}) {
  return (
    <div className="table-wrap">
      <table className={styles.board} data-testid="provisional-table">
        <thead>
          <tr>
            <th>{m.model}</th><th className={styles.num}>{m.battles}</th><th className={styles.num}>{m.record}</th>
            <th className={styles.num}>{m.winRate}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => {
            const slug = slugOf(r.model);
            const missing = minBattles - r.battles;
            return (
              <tr key={r.model} data-testid={`provisional-row-${slug}`}>
                <td><Link href={`/models/${slug}`} className={styles.name} title={nameOf(r.model)}>{nameOf(r.model)}</Link></td>
                <td className={styles.num}>
                  <span data-testid={`battles-${slug}`}>{r.battles}</span>
                  {missing > 0 && <span className={`small muted ${styles.sub}`}>{fill(m.moreBattles, { n: missing })}</span>}
                </td>
                <td className={styles.num}>{r.wins}–{r.losses}–{r.ties}</td>
                <td className={styles.num}>{r.winRate === null ? "–" : `${(r.winRate * 100).toFixed(1)}%`}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

import { axisTicks, intervalLabel, intervalSpan, ratingLabel, type StoredRating } from "@/lib/arena/rating-format";
import { IntervalTrack } from "./interval-track";
import styles from "./leaderboard.module.css";

export type CiRow = StoredRating & { name: string; slug: string };

/**
 * Bradley–Terry ratings of the ranked models with their 95% bootstrap intervals, one row per
 * model in leaderboard order: what exists is drawn (a finite interval as a bar with its rating
 * as a dot; an open side as an arrow to the edge), never a point at a bound.
 */
export function CiChart({ rows, legend, empty }: { rows: CiRow[]; legend: string; empty: string }) {
  if (rows.length === 0) return <div className="card muted" data-testid="ci-chart">{empty}</div>;
  const span = intervalSpan(rows);
  const ticks = axisTicks(span);
  const at = (v: number) => `${((v - span.lo) / (span.hi - span.lo)) * 100}%`;
  return (
    <div className={`card ${styles.chart}`} data-testid="ci-chart">
      {rows.map((r) => (
        <div key={r.slug} className={styles.chartRow} data-testid={`ci-row-${r.slug}`}>
          <div className={styles.chartName} title={`${r.name}: ${ratingLabel(r)} (${intervalLabel(r)})`}>{r.name}</div>
          <IntervalTrack rating={r} span={span} className={styles.chartTrack} testId={`ci-${r.slug}`}>
            {ticks.map((v) => <span key={v} className={styles.grid} style={{ left: at(v) }} />)}
          </IntervalTrack>
        </div>
      ))}
      <div className={styles.chartRow}>
        <div />
        <div className={styles.axis}>{ticks.map((v) => <span key={v} style={{ left: at(v) }}>{v}</span>)}</div>
      </div>
      <div className={`muted small ${styles.legend}`}>{legend}</div>
    </div>
  );
}

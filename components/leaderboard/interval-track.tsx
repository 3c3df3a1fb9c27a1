import { intervalBar, intervalLabel, type StoredRating } from "@/lib/arena/rating-format";
import styles from "./leaderboard.module.css";

/**
 * One model's 95% interval on a track spanning `span`: a bar over the finite part, an arrow
 * where a side is open (the model never lost, or never won), and a dot only at a finite rating.
 */
export function IntervalTrack({ rating, span, className, testId, children }: {
  rating: StoredRating; span: { lo: number; hi: number }; className?: string; testId?: string; children?: React.ReactNode;
}) {
  const bar = intervalBar(rating, span);
  return (
    <div className={className ?? styles.track} title={intervalLabel(rating)} data-testid={testId}
      data-open-low={bar.openLow || undefined} data-open-high={bar.openHigh || undefined}>
      {children}
      <span className={styles.bar} style={{ left: `${bar.left}%`, width: `${bar.width}%` }} />
      {bar.openLow && <span className={styles.arrowLow} data-testid={testId && `${testId}-arrow-low`} />}
      {bar.openHigh && <span className={styles.arrowHigh} data-testid={testId && `${testId}-arrow-high`} />}
      {bar.estimate !== null && <span className={styles.dot} style={{ left: `${bar.estimate}%` }} data-testid={testId && `${testId}-dot`} />}
    </div>
  );
}

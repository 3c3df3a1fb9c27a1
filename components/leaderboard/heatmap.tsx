import Link from "next/link";
import styles from "./leaderboard.module.css";

function colour(value: number | null, max: number, percent: boolean): string {
  if (value === null) return "#f0eee9";
  const t = percent ? value : max > 0 ? value / max : 0;
  // White → the arena's red.
  const mix = (a: number, b: number) => Math.round(a + (b - a) * t);
  return `rgb(${mix(255, 179)}, ${mix(255, 38)}, ${mix(255, 30)})`;
}

/**
 * A models × models matrix as a table of coloured cells (row model against column model).
 * Names stay horizontal on the rows and run upwards over the columns, cut with an ellipsis
 * (the full name is the title); a wide matrix scrolls sideways instead of shrinking its text.
 * With slugs, a cell with battles links to the two models' head-to-head page.
 */
export function Heatmap({ names, slugs, values, percent, testId }: { names: string[]; slugs?: string[]; values: (number | null)[][]; percent: boolean; testId: string }) {
  const max = Math.max(0, ...values.flat().map((v) => v ?? 0));
  const label = (value: number | null) => (value === null ? "–" : percent ? `${Math.round(value * 100)}%` : String(value));
  return (
    <div className={`card ${styles.heatmapWrap}`} data-testid={testId}>
      <table className={styles.heatmap}>
        <thead>
          <tr>
            <th />
            {names.map((name, j) => <th key={j} className={styles.colName} title={name}><span>{name}</span></th>)}
          </tr>
        </thead>
        <tbody>
          {values.map((row, i) => (
            <tr key={i}>
              <th className={styles.rowName} title={names[i]}>{names[i]}</th>
              {row.map((value, j) => {
                const dark = value !== null && (percent ? value : max > 0 ? value / max : 0) > 0.55;
                return (
                  <td key={j} className={styles.cell} title={`${names[i]} vs ${names[j]}: ${label(value)}`}
                    style={{ background: colour(value, max, percent), color: dark ? "#fff" : "#1d1b18" }}>
                    {i === j ? "" : slugs && value !== null
                      ? <Link href={`/models/${slugs[i]}/vs/${slugs[j]}`} data-testid={`${testId}-h2h-${slugs[i]}-${slugs[j]}`}>{label(value)}</Link>
                      : label(value)}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

import { fill } from "@/lib/i18n/lang";

// What pre-generation and judge runs show alike: their state and their counts (server and client pages).

export type RunTexts = Readonly<Record<"statusRunning" | "statusCompleted" | "statusCancelled" | "progressCounts" | "cancelledCount" | "unparseableCount" | "cancel" | "retryFailed" | "none", string>>;
export type RunProgress = { status: string; total: number; done: number; failed: number; cancelled: number; unparseable?: number };

const STATUS_KEYS: Record<string, keyof RunTexts> = { running: "statusRunning", completed: "statusCompleted", cancelled: "statusCancelled" };

export function runStatusText(status: string, said: RunTexts): string {
  const key = STATUS_KEYS[status];
  return key ? said[key] : status;
}

export function RunStatus({ status, said, testId }: { status: string; said: RunTexts; testId?: string }) {
  const tone = status === "completed" ? "ok" : status === "cancelled" ? "retired" : "active";
  return <span className={`badge ${tone}`} data-testid={testId}>{runStatusText(status, said)}</span>;
}

/** "3/5 done · 1 failed", then the unparseable (judge runs) and cancelled counts. */
export function runCounts(p: RunProgress, said: RunTexts): string {
  return [
    fill(said.progressCounts, { done: p.done, total: p.total, failed: p.failed }),
    ...(p.unparseable !== undefined ? [fill(said.unparseableCount, { n: p.unparseable })] : []),
    ...(p.cancelled ? [fill(said.cancelledCount, { n: p.cancelled })] : []),
  ].join(" · ");
}

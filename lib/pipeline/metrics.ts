// Prometheus text for a worker's /metrics, kept by hand: a few counters, gauges and one
// histogram do not need a client library.

const TTFT_BUCKETS_S = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const RATE_WINDOW_MS = 10_000;

type Labels = Record<string, string>;

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
}

class Histogram {
  readonly counts = TTFT_BUCKETS_S.map(() => 0);
  count = 0;
  sum = 0;
  observe(value: number) {
    this.count += 1;
    this.sum += value;
    TTFT_BUCKETS_S.forEach((bound, i) => {
      if (value <= bound) this.counts[i]! += 1;
    });
  }
}

export type JobCountsByModel = Map<string, Record<string, number>>;

export class PipelineMetrics {
  private readonly ttft = new Map<string, Histogram>();
  private readonly engineErrors = new Map<string, number>();
  private readonly tokensTotal = new Map<string, number>();
  /** Recent (time, tokens) samples per model, for tokens per second. */
  private readonly recent = new Map<string, { at: number; tokens: number }[]>();

  observeTtft(model: string, seconds: number): void {
    let h = this.ttft.get(model);
    if (!h) this.ttft.set(model, (h = new Histogram()));
    h.observe(seconds);
  }

  addTokens(model: string, tokens: number, now = Date.now()): void {
    this.tokensTotal.set(model, (this.tokensTotal.get(model) ?? 0) + tokens);
    let samples = this.recent.get(model);
    if (!samples) this.recent.set(model, (samples = []));
    samples.push({ at: now, tokens });
    while (samples.length && samples[0]!.at < now - RATE_WINDOW_MS) samples.shift();
  }

  tokensPerSecond(model: string, now = Date.now()): number {
    const samples = this.recent.get(model) ?? [];
    const tokens = samples.filter((s) => s.at >= now - RATE_WINDOW_MS).reduce((n, s) => n + s.tokens, 0);
    return tokens / (RATE_WINDOW_MS / 1000);
  }

  engineError(model: string, kind: string): void {
    const key = JSON.stringify([model, kind]);
    this.engineErrors.set(key, (this.engineErrors.get(key) ?? 0) + 1);
  }

  render(jobs: JobCountsByModel, now = Date.now()): string {
    const lines: string[] = [];
    lines.push("# HELP leitai_jobs Generation jobs by state, per model queue.", "# TYPE leitai_jobs gauge");
    for (const [model, counts] of jobs) {
      for (const [state, n] of Object.entries(counts)) lines.push(`leitai_jobs${labelText({ model, state })} ${n}`);
    }
    lines.push("# HELP leitai_time_to_first_token_seconds Engine request to first token.", "# TYPE leitai_time_to_first_token_seconds histogram");
    for (const [model, h] of this.ttft) {
      TTFT_BUCKETS_S.forEach((bound, i) => lines.push(`leitai_time_to_first_token_seconds_bucket${labelText({ model, le: String(bound) })} ${h.counts[i]}`));
      lines.push(`leitai_time_to_first_token_seconds_bucket${labelText({ model, le: "+Inf" })} ${h.count}`);
      lines.push(`leitai_time_to_first_token_seconds_sum${labelText({ model })} ${h.sum}`);
      lines.push(`leitai_time_to_first_token_seconds_count${labelText({ model })} ${h.count}`);
    }
    lines.push("# HELP leitai_tokens_per_second Streamed tokens per second over the last 10 s.", "# TYPE leitai_tokens_per_second gauge");
    const models = new Set([...jobs.keys(), ...this.recent.keys()]);
    for (const model of models) lines.push(`leitai_tokens_per_second${labelText({ model })} ${this.tokensPerSecond(model, now).toFixed(2)}`);
    lines.push("# HELP leitai_generated_tokens_total Streamed tokens.", "# TYPE leitai_generated_tokens_total counter");
    for (const [model, n] of this.tokensTotal) lines.push(`leitai_generated_tokens_total${labelText({ model })} ${n}`);
    lines.push("# HELP leitai_engine_errors_total Engine failures by kind.", "# TYPE leitai_engine_errors_total counter");
    for (const [key, n] of this.engineErrors) {
      const [model, kind] = JSON.parse(key) as [string, string];
      lines.push(`leitai_engine_errors_total${labelText({ model, kind })} ${n}`);
    }
    return lines.join("\n") + "\n";
  }
}

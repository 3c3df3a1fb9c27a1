import { readFileSync } from "node:fs";
import path from "node:path";
import type { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { PipelineMetrics } from "@/lib/pipeline/metrics";
import { createWebMetrics } from "@/lib/web/http-metrics";

// ops/grafana/leitai.json may only plot series that exist: those the site and the worker
// register (read from their registries) and those the gpu-runtime's metrics.py declares.

const ROOT = path.resolve(__dirname, "..", "..");
type Panel = { type: string; title: string; datasource?: { uid?: string }; targets?: { expr: string }[] };
const dashboard = JSON.parse(readFileSync(path.join(ROOT, "ops/grafana/leitai.json"), "utf8")) as {
  panels: Panel[];
  templating: { list: { type: string; name: string; query: unknown; definition?: string }[] };
};

/** Series names a registry exposes: a histogram as its _bucket, _sum and _count. */
async function exposedNames(registry: Registry): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const { name, type } of await registry.getMetricsAsJSON()) {
    out.set(name, String(type) === "histogram" ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name]);
  }
  return out;
}

/**
 * The runtime's metric names from its prometheus_client code: each "leitai_…" literal is of
 * the kind declared last before it (a counters/gauges table, a *MetricFamily, a Histogram).
 */
function runtimeNames(): string[] {
  const source = readFileSync(path.join(ROOT, "gpu-runtime/leitai_runtime/metrics.py"), "utf8");
  const kinds = [...source.matchAll(/\b(counters|gauges)\b[^=\n]*=\s*\{|\b(Counter|Gauge)MetricFamily\(\s*"|\bHistogram\(\s*"/g)]
    .map((m) => ({ at: m.index, kind: (m[1] ?? m[2] ?? "histogram").toLowerCase().replace(/s$/, "") }));
  return [...source.matchAll(/"(leitai_\w+)"/g)].flatMap((m) => {
    const kind = kinds.filter((k) => k.at < m.index).at(-1)?.kind;
    if (kind === "counter") return [`${m[1]}_total`];
    if (kind === "histogram") return [`${m[1]}_bucket`, `${m[1]}_sum`, `${m[1]}_count`];
    if (kind === "gauge") return [m[1]!];
    throw new Error(`metrics.py: cannot tell what kind of metric ${m[1]} is`);
  });
}

const PROMQL_WORDS = new Set(["by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool", "and", "or", "unless", "inf", "nan"]);

/** Metric names a PromQL expression selects: what is left without strings, matchers, ranges, groupings and calls. */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, "")
    .replace(/\{[^}]*\}/g, "")
    .replace(/\[[^\]]*\]/g, "")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, "");
  return [...bare.matchAll(/([A-Za-z_:][\w:]*)(\s*\()?/g)]
    .filter((m) => !m[2]) // a function call
    .map((m) => m[1]!)
    .filter((word) => !PROMQL_WORDS.has(word.toLowerCase()));
}

/** Metric names the panels' PromQL and the job variables' label_values(metric, job) read. */
function usedNames(): Set<string> {
  const fromPanels = dashboard.panels.flatMap((p) => (p.targets ?? []).flatMap((t) => metricNames(t.expr)));
  const fromVariables = dashboard.templating.list.filter((v) => v.type === "query").map((v) => {
    const match = /^label_values\((\w+),\s*\w+\)$/.exec(v.definition ?? "");
    if (!match) throw new Error(`variable ${v.name}: expected label_values(metric, label), got ${v.definition}`);
    return match[1]!;
  });
  return new Set([...fromPanels, ...fromVariables]);
}

describe("the Grafana dashboard", () => {
  it("reads every panel from the datasource variable", () => {
    expect(dashboard.templating.list.find((v) => v.name === "datasource")).toMatchObject({ type: "datasource", query: "prometheus" });
    const panels = dashboard.panels.filter((p) => p.type !== "row");
    expect(panels.length).toBeGreaterThan(10);
    for (const panel of panels) {
      expect(panel.datasource?.uid, panel.title).toBe("${datasource}");
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
    }
  });

  it("finds metric names in PromQL", () => {
    expect(metricNames('histogram_quantile(0.95, sum by (le, route) (rate(a_bucket{job=~"$j",status=~"5.."}[$__rate_interval])))')).toEqual(["a_bucket"]);
    expect(metricNames("sum(rate(a_total[5m])) / sum(rate(b_total[5m])) or vector(0)")).toEqual(["a_total", "b_total"]);
  });

  it("plots only series that exist, and every series the site and the worker register", async () => {
    const web = await exposedNames(createWebMetrics({ dir: ROOT }).registry);
    const worker = await exposedNames(new PipelineMetrics().registry);
    const known = new Set([...web.values(), ...worker.values()].flat().concat(runtimeNames()));
    expect(known).toContain("leitai_running_sequences");
    expect(known).toContain("leitai_preemptions_total");
    expect(known).toContain("leitai_time_to_first_token_seconds_bucket");

    const used = usedNames();
    expect([...used].filter((name) => !known.has(name))).toEqual([]);
    const ours = [...web, ...worker].filter(([name]) => name.startsWith("leitai_"));
    expect(ours.length).toBeGreaterThanOrEqual(7);
    for (const [name, series] of ours) expect(series.some((s) => used.has(s)), name).toBe(true);
  });
});

import { collectDefaultMetrics, Registry } from "prom-client";

// Prometheus metrics of one process (the site, a worker). Process, event-loop, heap and GC
// series keep prom-client's own names (process_*, nodejs_*), so stock Node.js dashboards read
// them too; the arena's own series are named leitai_*.

/** A registry with the process's default metrics; each process (or test) makes its own. */
export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** What the gpu-runtime's prometheus_client serves too: the text format, version 0.0.4. */
export const METRICS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

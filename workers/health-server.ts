import { createServer, type Server } from "node:http";
import { METRICS_CONTENT_TYPE } from "../lib/metrics";

export type HealthState = {
  ready: boolean;
  shuttingDown: boolean;
  metrics?: () => Promise<string>;
  /** The served models, and those whose engine does not answer. */
  engines?: () => { models: string[]; down: string[] };
};

/**
 * /healthz/live (the process runs), /healthz/ready (503 while starting or shutting down, or
 * while no served model's engine answers; the body names the models whose engine is down), /metrics.
 * Open to whoever reaches the port: it is for monitoring, never exposed to the public.
 */
export function startHealthServer(port: number, state: HealthState): Server {
  const server = createServer(async (req, res) => {
    if (req.url === "/healthz/live") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ status: "live" }));
    } else if (req.url === "/healthz/ready") {
      const engines = state.engines?.() ?? { models: [], down: [] };
      const noEngine = engines.models.length > 0 && engines.down.length === engines.models.length;
      const ready = state.ready && !state.shuttingDown && !noEngine;
      const status = ready ? "ready" : state.shuttingDown ? "shutting down" : !state.ready ? "starting" : "no engine answers";
      res.writeHead(ready ? 200 : 503, { "content-type": "application/json" })
        .end(JSON.stringify({ status, enginesDown: engines.down }));
    } else if (req.url === "/metrics" && state.metrics) {
      res.writeHead(200, { "content-type": METRICS_CONTENT_TYPE }).end(await state.metrics());
    } else {
      res.writeHead(404).end();
    }
  });
  server.listen(port, "0.0.0.0");
  return server;
}

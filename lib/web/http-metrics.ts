import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";
import { Histogram, type Registry } from "prom-client";
import { errorPayload } from "../errors";
import { log } from "../log";
import { createRegistry } from "../metrics";
import { assertMetricsReader } from "./metrics-access";
import { routeMatcher, routeTemplates } from "./route-templates";
import { SECURITY_HEADERS, send } from "./respond";

// The site's Prometheus metrics: how long each request took, by route template and status,
// and the process's own series; served on /metrics by the web server itself (lib/web/server.ts).

export const METRICS_PATH = "/metrics";
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);
// A battle's stream stays open for the whole answer: the top buckets are for it.
const DURATION_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120];

export type WebMetrics = {
  registry: Registry;
  /** Times the request; answers it when it is for /metrics (then true, and Next.js keeps out). */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
};

function appRoutes(appDir: string): string[] {
  try {
    return routeTemplates(appDir);
  } catch (error) {
    // Without the sources every request counts as "other": worse metrics, not a dead site.
    log.warn("web:metrics-routes", error);
    return [];
  }
}

/** `dir`: the project root, whose app/ holds the route files the labels are drawn from. */
export function createWebMetrics({ dir }: { dir: string }): WebMetrics {
  const registry = createRegistry();
  const routeOf = routeMatcher(appRoutes(path.join(dir, "app")), [METRICS_PATH]);
  const duration = new Histogram({
    name: "leitai_http_request_duration_seconds",
    help: "Time from a request's arrival to the end of its response, by route template; status \"aborted\" when the client left before any answer.",
    labelNames: ["method", "route", "status"] as const,
    buckets: DURATION_BUCKETS_S,
    registers: [registry],
  });

  async function answerMetrics(req: IncomingMessage, res: ServerResponse) {
    try {
      await assertMetricsReader(req);
      const body = await registry.metrics();
      res.writeHead(200, { ...SECURITY_HEADERS, "Content-Type": registry.contentType, "Cache-Control": "no-store" }).end(body);
    } catch (error) {
      const { status, headers, body } = errorPayload(error);
      if (status === 401) headers["WWW-Authenticate"] = 'Bearer realm="metrics"';
      if (!res.headersSent) send(res, status, headers, body);
    }
  }

  return {
    registry,
    handle(req, res) {
      const end = duration.startTimer();
      const route = routeOf(req.url ?? "/");
      const method = METHODS.has(req.method ?? "") ? req.method! : "other";
      res.once("close", () => end({ method, route, status: res.headersSent ? String(res.statusCode) : "aborted" }));
      if (route !== METRICS_PATH) return false;
      void answerMetrics(req, res);
      return true;
    },
  };
}

import { createServer, type Server } from "node:http";

export type HealthState = { ready: boolean; shuttingDown: boolean; metrics?: () => Promise<string> };

/** /healthz/live (the process runs), /healthz/ready (503 while starting or shutting down), /metrics. */
export function startHealthServer(port: number, state: HealthState): Server {
  const server = createServer(async (req, res) => {
    if (req.url === "/healthz/live") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ status: "live" }));
    } else if (req.url === "/healthz/ready") {
      const ready = state.ready && !state.shuttingDown;
      res.writeHead(ready ? 200 : 503, { "content-type": "application/json" })
        .end(JSON.stringify({ status: ready ? "ready" : state.shuttingDown ? "shutting down" : "starting" }));
    } else if (req.url === "/metrics" && state.metrics) {
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(await state.metrics());
    } else {
      res.writeHead(404).end();
    }
  });
  server.listen(port, "0.0.0.0");
  return server;
}

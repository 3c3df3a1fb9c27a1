// The arena's web server: `node --import tsx scripts/web.ts [-p PORT] [-H HOST]` after
// `next build` (what `npm start`, `npm run up` and `npm test` run).
import path from "node:path";
import { parseArgs } from "node:util";
import { log } from "../lib/log";
import { startWebServer } from "../lib/web/server";

const { values } = parseArgs({
  options: { port: { type: "string", short: "p", default: "3000" }, hostname: { type: "string", short: "H" } },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error(`[web] --port must be a TCP port, got "${values.port}"`);
  process.exit(2);
}

async function main() {
  const { server, app } = await startWebServer({ port, hostname: values.hostname, dir: path.resolve(__dirname, "..") });
  console.log(`Leitai web server ready on http://${values.hostname ?? "localhost"}:${port}`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    // In-flight requests finish; idle keep-alive connections close now; 10 s at most.
    server.close(() => void app.close().finally(() => process.exit(0)));
    server.closeIdleConnections();
    setTimeout(() => process.exit(0), 10_000).unref();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  // Started by `npm run up` with an IPC channel: it closes when up dies, even by SIGKILL.
  process.on("disconnect", stop);
}

main().catch((error: unknown) => {
  log.error("web:start", error);
  process.exit(1);
});

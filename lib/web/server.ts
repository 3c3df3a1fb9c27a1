import http, { type IncomingMessage } from "node:http";
import next from "next";
import { env } from "../env";
import { errorPayload, errors } from "../errors";
import { log } from "../log";
import { createWebMetrics } from "./http-metrics";
import { answerQueueConsole, isQueueConsolePath } from "./queue-console";
import { requestLang, send } from "./respond";
import { answerAnonymousVote, anonymousVoteTarget } from "./vote-fast-path";

/**
 * Rate limits and moderation key on the client's address, so X-Forwarded-For must not be the
 * client's to choose: without a trusted proxy it becomes the socket's address; behind one, the
 * proxy's header stands (its last hop is the address the proxy saw).
 */
export function pinClientAddress(req: IncomingMessage, trustProxy: boolean): void {
  const socketAddress = (req.socket.remoteAddress ?? "unknown").replace(/^::ffff:/, "");
  if (!(trustProxy && req.headers["x-forwarded-for"])) req.headers["x-forwarded-for"] = socketAddress;
  delete req.headers["x-real-ip"];
}

/**
 * An API path whose percent-encoding does not decode (`%zz`, `%ED%A0%80` for a lone
 * surrogate) is the client's mistake, but Next.js answers it with a 500 before any handler.
 */
export function undecodableApiPath(url: string | undefined): boolean {
  const path = (url ?? "").split("?")[0]!;
  if (!path.startsWith("/api/")) return false;
  try {
    decodeURIComponent(path);
    return false;
  } catch {
    return true;
  }
}

/**
 * The production web server: Next.js for everything but anonymous votes (lib/web/vote-fast-path.ts),
 * the queue console (lib/web/queue-console.ts) and /metrics (lib/web/http-metrics.ts).
 */
export async function startWebServer({ port, hostname, dir }: { port: number; hostname?: string; dir: string }) {
  const { LEITAI_TRUST_PROXY: trustProxy, LEITAI_VOTE_FAST_PATH: fastVotes } = env();
  const app = next({ dev: false, dir, port, hostname });
  await app.prepare();
  const handle = app.getRequestHandler();
  const metrics = createWebMetrics({ dir });
  const server = http.createServer((req, res) => {
    pinClientAddress(req, trustProxy);
    if (metrics.handle(req, res)) return;
    if (undecodableApiPath(req.url)) {
      const { status, headers, body } = errorPayload(errors.badRequest("input", { key: "pathNotUtf8" }, "path"), requestLang(req));
      send(res, status, headers, body);
      return;
    }
    const vote = fastVotes ? anonymousVoteTarget(req) : null;
    const answered = isQueueConsolePath(req.url) ? answerQueueConsole(req, res) : vote ? answerAnonymousVote(req, res, vote) : handle(req, res);
    answered.catch((error: unknown) => {
      log.error("web:request", error);
      if (!res.headersSent) res.writeHead(500, { "Content-Type": "text/plain" });
      res.end("Internal error");
    });
  });
  // Idle keep-alive connections live longer than a proxy's or browser's (60 s is common), so
  // the server never closes one just as the other side reuses it.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, hostname, resolve);
  });
  return { server, app };
}

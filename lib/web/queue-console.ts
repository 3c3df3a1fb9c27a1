import { AsyncLocalStorage } from "node:async_hooks";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import type { AfterHook, BeforeHook } from "@bull-board/api/typings/app";
import { HonoAdapter } from "@bull-board/hono";
import { getRequestListener } from "@hono/node-server";
import { serveStatic } from "@hono/node-server/serve-static";
import type { FinishedStatus, Job } from "bullmq";
import { Hono } from "hono";
import { recordAudit } from "../audit";
import { listArenaQueues } from "../admin/queues";
import { reopenFailedGeneration } from "../admin/system";
import { adminRefusal, adminRefusalError, type AdminRefusal } from "../auth/access";
import { userOfRequest } from "../auth/request-user";
import { errorPayload } from "../errors";
import { log } from "../log";
import type { ArenaQueue, ArenaQueueKind } from "../pipeline/queues";
import type { PublicUser } from "../users";
import { SECURITY_HEADERS, send } from "./respond";

// Bull Board at /admin/queues: every arena queue, its jobs, failure reasons, retry and clean.
// Bull Board has no Next.js adapter, so the web server (./server.ts) hands it these paths; its
// Hono adapter runs on Hono's node listener. Every request, assets included, is checked here
// against the session cookie and the user's row, as requireAdmin does for /api/admin/*.

export const QUEUE_CONSOLE_PATH = "/admin/queues";

export function isQueueConsolePath(url: string | undefined): boolean {
  const path = (url ?? "").split("?")[0]!;
  return path === QUEUE_CONSOLE_PATH || path.startsWith(`${QUEUE_CONSOLE_PATH}/`);
}

/** The board's JSON API and its assets answer refusals with JSON errors; its pages redirect. */
function isApiPath(path: string): boolean {
  return path.startsWith(`${QUEUE_CONSOLE_PATH}/api/`) || path.startsWith(`${QUEUE_CONSOLE_PATH}/static/`);
}

function refuse(res: ServerResponse, refusal: AdminRefusal, url: string) {
  const path = url.split("?")[0]!;
  if (isApiPath(path)) {
    const { status, headers, body } = errorPayload(adminRefusalError(refusal));
    send(res, status, headers, body);
    return;
  }
  if (refusal === "anonymous" || refusal === "password_change_required") {
    const to = refusal === "anonymous" ? `/signin?callbackUrl=${encodeURIComponent(url)}` : `/account?next=${encodeURIComponent(url)}`;
    res.writeHead(307, { ...SECURITY_HEADERS, Location: to, "Cache-Control": "no-store" }).end();
    return;
  }
  const html = "<!doctype html><meta charset=utf-8><title>403</title><p>403 · 仅限管理员。Admins only.</p>";
  res.writeHead(403, { ...SECURITY_HEADERS, "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" }).end(html);
}

/** The admin whose request the board is answering, for the audit log. */
const actingAdmin = new AsyncLocalStorage<PublicUser>();

function actor(): PublicUser {
  const user = actingAdmin.getStore();
  if (!user) throw new Error("queue console: a board action ran outside an admin's request");
  return user;
}

/** Job id = generation id: a failed job's retry reopens its generation (lib/admin/system.ts). */
function retriedAsGeneration<T extends Job>(job: T): T {
  const retry = job.retry.bind(job);
  job.retry = async (state?: FinishedStatus) => {
    if (state === "failed" && job.id && (await reopenFailedGeneration({ id: job.id, actorId: actor().id }))) return;
    await retry(state);
  };
  return job;
}

class GenerationQueueAdapter extends BullMQAdapter {
  override async getJob(id: string) {
    const job = await super.getJob(id);
    return job && retriedAsGeneration(job);
  }

  override async getJobs(...args: Parameters<BullMQAdapter["getJobs"]>) {
    return (await super.getJobs(...args)).map(retriedAsGeneration);
  }
}

const DESCRIPTIONS: Record<ArenaQueueKind, string> = {
  pregen: "Fans each pre-generation run out into one generation job per question and model.",
  judge: "Fans each AI-judge run out into judge generations.",
  ratings: "Recomputes the rating run after votes or an admin's request.",
  generation: "One job per generation (job id = generation id); retrying a failed job reopens its generation.",
};

/**
 * Actions that would bypass the arena's record: a job with no generation behind it, a job whose
 * messages differ from its row's, a queue wiped with the jobs PostgreSQL still waits on.
 * Retry, clean, promote, pause and resume stay on.
 */
const REFUSED_ROUTES = new Set([
  "/api/queues/:queueName/add",
  "/api/queues/:queueName/:jobId/update-data",
  "/api/queues/:queueName/empty",
  "/api/queues/:queueName/obliterate",
]);

const refuseBypasses: BeforeHook = ({ route }) => {
  if (REFUSED_ROUTES.has(route)) return { allow: false, status: 403, message: "Not in this arena: jobs are made and removed with their generations." };
};

/** Every change made from the console leaves an audit entry, like the admin API's. */
const auditChanges: AfterHook = async ({ method, route, request }, result) => {
  if (method === "get" || (result.status ?? 200) >= 400) return result;
  const verb = route.split("/").filter((s) => s && !s.startsWith(":")).slice(2).join(".") || "queues";
  const { queueName, ...params } = request.params ?? {};
  await recordAudit({ actorId: actor().id, action: `queue.${verb}`, targetType: "queue", targetId: queueName ?? null, after: { ...params, ...request.query } })
    .catch((error: unknown) => log.warn("queue-console:audit", error));
  return result;
};

// Bull Board's page asks Google for its web fonts; the arena serves nothing from a CDN.
const FONT_LINK = /<link[^>]+fonts\.googleapis\.com[^>]*>/g;

function createConsole() {
  const serverAdapter = new HonoAdapter(serveStatic).setBasePath(QUEUE_CONSOLE_PATH);
  const board = createBullBoard({
    queues: [],
    serverAdapter,
    options: {
      uiConfig: { boardTitle: "Leitai queues", miscLinks: [{ text: "系统 System", url: "/admin/system" }] },
      handlerHooks: { before: refuseBypasses, after: auditChanges },
    },
  });
  const app = new Hono({ strict: false });
  app.use(`${QUEUE_CONSOLE_PATH}/*`, async (c, next) => {
    await next();
    if (!c.res.headers.get("content-type")?.startsWith("text/html")) return;
    const html = (await c.res.text()).replace(FONT_LINK, "");
    c.res = new Response(html, { status: c.res.status, headers: c.res.headers });
  });
  app.route(QUEUE_CONSOLE_PATH, serverAdapter.registerPlugin());
  // Hono would otherwise swap Node's global Request and Response for its own, under Next.js too.
  const listener = getRequestListener(app.fetch, { overrideGlobalObjects: false });

  const adapters = new Map<string, { label: string; adapter: BullMQAdapter }>();
  const adapterOf = (q: ArenaQueue): BullMQAdapter => {
    const known = adapters.get(q.name);
    if (known?.label === q.label) return known.adapter;
    const Adapter = q.kind === "generation" ? GenerationQueueAdapter : BullMQAdapter;
    const adapter = new Adapter(q.queue, { readOnlyMode: false, allowRetries: true, displayName: q.label, description: DESCRIPTIONS[q.kind] });
    adapters.set(q.name, { label: q.label, adapter });
    return adapter;
  };
  /** Models come and go while the site runs: the board lists what PostgreSQL says now. */
  const refresh = async () => {
    const queues = await listArenaQueues();
    const names = new Set(queues.map((q) => q.name));
    for (const name of adapters.keys()) if (!names.has(name)) adapters.delete(name);
    board.replaceQueues(queues.map(adapterOf));
  };
  return { listener, refresh };
}

let queueConsole: ReturnType<typeof createConsole> | undefined;

/** Answers a request under QUEUE_CONSOLE_PATH: an admin reaches the board, anyone else is refused. */
export async function answerQueueConsole(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = req.url ?? QUEUE_CONSOLE_PATH;
  try {
    const user = await userOfRequest(req);
    const refusal = adminRefusal(user);
    if (refusal) {
      refuse(res, refusal, url);
      return;
    }
    queueConsole ??= createConsole();
    if (!url.startsWith(`${QUEUE_CONSOLE_PATH}/static/`)) await queueConsole.refresh();
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    if (!url.startsWith(`${QUEUE_CONSOLE_PATH}/static/`)) res.setHeader("Cache-Control", "no-store");
    await actingAdmin.run(user!, () => queueConsole!.listener(req, res));
  } catch (error) {
    const { status, headers, body } = errorPayload(error);
    if (!res.headersSent) send(res, status, headers, body);
    else res.end();
  }
}

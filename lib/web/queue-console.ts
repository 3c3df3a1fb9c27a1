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
import { listArenaQueues, queueLabel } from "../admin/queues";
import { reopenFailedGeneration } from "../admin/system";
import { adminRefusal, adminRefusalError, type AdminRefusal } from "../auth/access";
import { userOfRequest } from "../auth/request-user";
import { errorPayload } from "../errors";
import { htmlLang, messages, type Lang } from "../i18n";
import { log } from "../log";
import type { ArenaQueue, ArenaQueueKind } from "../pipeline/queues";
import type { PublicUser } from "../users";
import { requestLang, SECURITY_HEADERS, send } from "./respond";

// Bull Board at /admin/queues: every arena queue, its jobs, failure reasons, retry and clean.
// Bull Board has no Next.js adapter, so the web server (./server.ts) hands it these paths; its
// Hono adapter runs on Hono's node listener. Every request, assets included, is checked here
// against the session cookie and the user's row, as requireAdmin does for /api/admin/*. The board
// speaks the reader's language: one board per language, its names and locale from the catalogue.

export const QUEUE_CONSOLE_PATH = "/admin/queues";

export function isQueueConsolePath(url: string | undefined): boolean {
  const path = (url ?? "").split("?")[0]!;
  return path === QUEUE_CONSOLE_PATH || path.startsWith(`${QUEUE_CONSOLE_PATH}/`);
}

/** The board's JSON API and its assets answer refusals with JSON errors; its pages redirect. */
function isApiPath(path: string): boolean {
  return path.startsWith(`${QUEUE_CONSOLE_PATH}/api/`) || path.startsWith(`${QUEUE_CONSOLE_PATH}/static/`);
}

function refuse(res: ServerResponse, refusal: AdminRefusal, url: string, lang: Lang) {
  const path = url.split("?")[0]!;
  if (isApiPath(path)) {
    const { status, headers, body } = errorPayload(adminRefusalError(refusal), lang);
    send(res, status, headers, body);
    return;
  }
  if (refusal === "anonymous" || refusal === "password_change_required") {
    const to = refusal === "anonymous" ? `/signin?callbackUrl=${encodeURIComponent(url)}` : `/account?next=${encodeURIComponent(url)}`;
    res.writeHead(307, { ...SECURITY_HEADERS, Location: to, "Cache-Control": "no-store" }).end();
    return;
  }
  const said = messages(lang).adminQueueNames;
  const html = `<!doctype html><html lang="${htmlLang(lang)}"><meta charset=utf-8><title>${said.adminsOnlyTitle}</title><p>403 · ${said.adminsOnly}</p></html>`;
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

const DESCRIPTIONS = {
  pregen: "pregenDescription",
  judge: "judgeDescription",
  ratings: "ratingsDescription",
  generation: "generationDescription",
} as const satisfies Record<ArenaQueueKind, string>;

/** Bull Board's own locale for each of ours. */
const BOARD_LOCALES: Record<Lang, string> = { zh: "zh-CN", en: "en-US" };

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

const refuseBypasses = (message: string): BeforeHook => ({ route }) => {
  if (REFUSED_ROUTES.has(route)) return { allow: false, status: 403, message };
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

function createConsole(lang: Lang) {
  const said = messages(lang).adminQueueNames;
  const serverAdapter = new HonoAdapter(serveStatic).setBasePath(QUEUE_CONSOLE_PATH);
  const board = createBullBoard({
    queues: [],
    serverAdapter,
    options: {
      uiConfig: { boardTitle: said.boardTitle, hideDocsLink: true, locale: { lng: BOARD_LOCALES[lang] }, miscLinks: [{ text: said.systemLink, url: "/admin/system" }] },
      handlerHooks: { before: refuseBypasses(said.refusedAction), after: auditChanges },
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
    const label = queueLabel(q, said);
    const known = adapters.get(q.name);
    if (known?.label === label) return known.adapter;
    const Adapter = q.kind === "generation" ? GenerationQueueAdapter : BullMQAdapter;
    const adapter = new Adapter(q.queue, { readOnlyMode: false, allowRetries: true, displayName: label, description: said[DESCRIPTIONS[q.kind]] });
    adapters.set(q.name, { label, adapter });
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

const consoles = new Map<Lang, ReturnType<typeof createConsole>>();

/** Answers a request under QUEUE_CONSOLE_PATH: an admin reaches the board, anyone else is refused. */
export async function answerQueueConsole(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = req.url ?? QUEUE_CONSOLE_PATH;
  const lang = requestLang(req);
  try {
    const user = await userOfRequest(req);
    const refusal = adminRefusal(user);
    if (refusal) {
      refuse(res, refusal, url, lang);
      return;
    }
    let queueConsole = consoles.get(lang);
    if (!queueConsole) consoles.set(lang, (queueConsole = createConsole(lang)));
    if (!url.startsWith(`${QUEUE_CONSOLE_PATH}/static/`)) await queueConsole.refresh();
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    if (!url.startsWith(`${QUEUE_CONSOLE_PATH}/static/`)) res.setHeader("Cache-Control", "no-store");
    await actingAdmin.run(user!, () => queueConsole.listener(req, res));
  } catch (error) {
    const { status, headers, body } = errorPayload(error, lang);
    if (!res.headersSent) send(res, status, headers, body);
    else res.end();
  }
}

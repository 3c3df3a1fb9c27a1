// Typed error codes ("type:surface") mapped to HTTP statuses. Users see `message`;
// `cause` stays in the server log.
import { ZodError } from "zod";
import { DEFAULT_LANG, messages, sayError, type ErrorMessage, type ErrorValues, type Lang } from "./i18n";
import { fieldErrors } from "./i18n/issues";
import { log } from "./log";

export type ErrorType =
  | "bad_request"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "conflict"
  | "rate_limit"
  | "unavailable"
  | "internal";

export type ErrorCode = `${ErrorType}:${string}`;

const statusByType: Record<ErrorType, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  rate_limit: 429,
  unavailable: 503,
  internal: 500,
};

/** What an error says: plain text, or a catalogue message said in the reader's language. */
export type ErrorText = string | ErrorMessage;

export class AppError extends Error {
  readonly type: ErrorType;
  readonly status: number;
  /** The catalogue message, when the text is one. */
  readonly said: ErrorMessage | null;

  constructor(
    readonly code: ErrorCode,
    text: ErrorText,
    readonly details: { field?: string; retryAfterS?: number; cause?: unknown } = {},
  ) {
    // The server's own log reads English.
    super(typeof text === "string" ? text : sayError("en", text));
    this.name = "AppError";
    this.type = code.split(":")[0] as ErrorType;
    this.status = statusByType[this.type];
    this.said = typeof text === "string" ? null : text;
  }

  /** What the reader sees, in their language. */
  messageIn(lang: Lang): string {
    return this.said ? sayError(lang, this.said) : this.message;
  }
}

// What a 404 says by default, by its surface; any other surface says it plainly.
const NOT_FOUND: Readonly<Record<string, ErrorMessage["key"]>> = {
  battle: "battleNotFound",
  model: "noSuchModel",
  question: "noSuchQuestion",
  category: "noSuchCategory",
  generation: "noSuchGeneration",
  user: "noSuchUser",
  judge_run: "noSuchJudgeRun",
  pregen_run: "noSuchPregenRun",
};

export const errors = {
  badRequest: (surface: string, text: ErrorText, field?: string) =>
    new AppError(`bad_request:${surface}`, text, { field }),
  unauthorized: (text: ErrorText = { key: "signInFirst" }) => new AppError("unauthorized:auth", text),
  forbidden: (surface: string, text: ErrorText = { key: "notAllowed" }) =>
    new AppError(`forbidden:${surface}`, text),
  notFound: (surface: string, text: ErrorText = { key: NOT_FOUND[surface] ?? "notFound" }) => new AppError(`not_found:${surface}`, text),
  conflict: (surface: string, text: ErrorText) => new AppError(`conflict:${surface}`, text),
  rateLimited: (surface: string, retryAfterS: number, text: ErrorText = { key: "tooManyRequests", values: { s: retryAfterS } }) =>
    new AppError(`rate_limit:${surface}`, text, { retryAfterS }),
  unavailable: (surface: string, text: ErrorText, retryAfterS?: number, cause?: unknown) =>
    new AppError(`unavailable:${surface}`, text, { retryAfterS, cause }),
};

/** Seconds a client is asked to wait while PostgreSQL or Redis is away (a restart takes a few). */
export const SERVICE_RETRY_AFTER_S = 5;

// How PostgreSQL being away shows up, through Prisma (its codes, its driver adapter's error
// kinds) or node-postgres (SQLSTATEs, socket codes, pool messages): not reachable, closed,
// timed out, shutting down or starting up, out of connections.
const PRISMA_UNREACHABLE = new Set(["P1001", "P1002", "P1008", "P1017", "P2024", "P2037"]);
const ADAPTER_UNREACHABLE = new Set(["DatabaseNotReachable", "ConnectionClosed", "SocketTimeout", "TooManyConnections"]);
// 08000/1/3/4/6 connection exceptions (not 08P01, a protocol violation: our bug), 57P01 admin
// shutdown, 57P02 crash shutdown, 57P03 cannot connect now, 53300 too many connections.
const SQLSTATE_UNREACHABLE = /^(0800[01346]|57P0[123]|53300)$/;
const SOCKET_UNREACHABLE = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);
const MESSAGE_UNREACHABLE =
  /Connection terminated|timeout exceeded when trying to connect|not queryable|Can't reach database server|the database system is (shutting down|starting up|in recovery mode)|terminating connection due to administrator command|server closed the connection/i;

// ioredis with a bounded retry (lib/redis.ts) rejects a command with these while Redis is away,
// or with a command timeout (the queue producers, lib/pipeline/queues.ts) while it does not answer.
const REDIS_UNREACHABLE = /max retries per request|Connection is closed|Stream isn't writeable|Command timed out/i;

type Inspectable = { name?: unknown; code?: unknown; errorCode?: unknown; message?: unknown; kind?: unknown; cause?: unknown; meta?: unknown; errors?: unknown };

/** The error, its causes, a driver adapter's error inside Prisma's, and an AggregateError's parts. */
function* errorChain(error: unknown, depth = 0): Generator<Inspectable> {
  if (depth > 6 || error === null || typeof error !== "object") return;
  const e = error as Inspectable;
  yield e;
  yield* errorChain(e.cause, depth + 1);
  yield* errorChain((e.meta as { driverAdapterError?: unknown } | undefined)?.driverAdapterError, depth + 1);
  if (Array.isArray(e.errors)) for (const part of e.errors) yield* errorChain(part, depth + 1);
}

function isRedisUnreachable(error: unknown): boolean {
  for (const e of errorChain(error)) {
    if (e.name === "MaxRetriesPerRequestError") return true;
    if (typeof e.message === "string" && REDIS_UNREACHABLE.test(e.message)) return true;
  }
  return false;
}

function isDatabaseUnreachable(error: unknown): boolean {
  // node-postgres throws a socket error as is, or (a host with two addresses) an AggregateError of them.
  const own = new Set<unknown>(error instanceof AggregateError ? [error, ...error.errors] : [error]);
  let underPrisma = false;
  for (const e of errorChain(error)) {
    // fetch() to an engine or a remote API fails with its socket error as the cause: not ours to call a database outage.
    if (e.name === "TypeError" && e.message === "fetch failed") return false;
    underPrisma ||= typeof e.name === "string" && e.name.startsWith("Prisma");
    const code = typeof e.code === "string" ? e.code : typeof e.errorCode === "string" ? e.errorCode : "";
    if (PRISMA_UNREACHABLE.has(code) || SQLSTATE_UNREACHABLE.test(code)) return true;
    // A socket error counts when the driver threw it, or Prisma wraps it; not as some other error's cause.
    if (SOCKET_UNREACHABLE.has(code) && (own.has(e) || underPrisma)) return true;
    if (typeof e.kind === "string" && ADAPTER_UNREACHABLE.has(e.kind)) return true;
    if (typeof e.message === "string" && MESSAGE_UNREACHABLE.test(e.message)) return true;
  }
  return false;
}

/**
 * A failure that only says PostgreSQL or Redis is away right now, as the 503 a client can
 * retry after; null for anything else. Redis is asked first: its errors are unambiguous,
 * while a bare ECONNREFUSED is node-postgres's.
 */
export function serviceUnavailable(error: unknown): AppError | null {
  if (error instanceof AppError) return null;
  if (isRedisUnreachable(error)) {
    return errors.unavailable("queue", { key: "queueDown" }, SERVICE_RETRY_AFTER_S, error);
  }
  if (isDatabaseUnreachable(error)) {
    return errors.unavailable("database", { key: "databaseDown" }, SERVICE_RETRY_AFTER_S, error);
  }
  return null;
}

export type ErrorPayload = {
  status: number;
  headers: Record<string, string>;
  /** `key` and `values` name a catalogue message, so a page can say it in its own language. */
  body: {
    error: {
      code: string;
      message: string;
      field?: string;
      /** Every invalid field's message, by dotted path, when the input failed its schema. */
      fields?: Record<string, string>;
      key?: string;
      values?: ErrorValues;
    };
  };
};

/**
 * Any thrown value as the typed JSON error a client sees, its message in `lang` (framework-free:
 * lib/web uses it too).
 */
export function errorPayload(error: unknown, lang: Lang = DEFAULT_LANG): ErrorPayload {
  if (error instanceof AppError) {
    const headers: Record<string, string> = {};
    if (error.details.retryAfterS !== undefined) headers["Retry-After"] = String(error.details.retryAfterS);
    if (error.status >= 500) log.error(error.code, error.details.cause ?? error);
    const said = error.said ? { key: error.said.key, values: error.said.values } : {};
    return { status: error.status, headers, body: { error: { code: error.code, message: error.messageIn(lang), field: error.details.field, ...said } } };
  }
  if (error instanceof ZodError) {
    const fields = fieldErrors(lang, messages(lang).formErrors, error.issues);
    const [field, text] = Object.entries(fields)[0] ?? ["", sayError(lang, { key: "invalidInput" })];
    // The message names its field for API clients; `fields` holds each field's own message for forms.
    const payload = errorPayload(errors.badRequest("input", field ? `${field}: ${text}` : text, field || undefined), lang);
    payload.body.error.fields = fields;
    return payload;
  }
  const unavailable = serviceUnavailable(error);
  if (unavailable) return errorPayload(unavailable, lang);
  // Anything else (database, network) is logged in full and masked for the client.
  log.error("unhandled", error);
  return { status: 500, headers: {}, body: { error: { code: "internal:server", message: sayError(lang, { key: "serverError" }), key: "serverError" } } };
}

// Typed error codes ("type:surface") mapped to HTTP statuses. Users see `message`;
// `cause` stays in the server log.
import { ZodError } from "zod";
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

export class AppError extends Error {
  readonly type: ErrorType;
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: { field?: string; retryAfterS?: number; cause?: unknown } = {},
  ) {
    super(message);
    this.name = "AppError";
    this.type = code.split(":")[0] as ErrorType;
    this.status = statusByType[this.type];
  }
}

export const errors = {
  badRequest: (surface: string, message: string, field?: string) =>
    new AppError(`bad_request:${surface}`, message, { field }),
  unauthorized: (message = "Sign in first.") => new AppError("unauthorized:auth", message),
  forbidden: (surface: string, message = "You are not allowed to do this.") =>
    new AppError(`forbidden:${surface}`, message),
  notFound: (surface: string, message = `No such ${surface}.`) => new AppError(`not_found:${surface}`, message),
  conflict: (surface: string, message: string) => new AppError(`conflict:${surface}`, message),
  rateLimited: (surface: string, retryAfterS: number) =>
    new AppError(`rate_limit:${surface}`, `Too many requests; try again in ${retryAfterS} s.`, { retryAfterS }),
  unavailable: (surface: string, message: string) => new AppError(`unavailable:${surface}`, message),
};

export type ErrorPayload = {
  status: number;
  headers: Record<string, string>;
  body: { error: { code: string; message: string; field?: string } };
};

/** Any thrown value as the typed JSON error a client sees (framework-free: lib/web uses it too). */
export function errorPayload(error: unknown): ErrorPayload {
  if (error instanceof AppError) {
    const headers: Record<string, string> = {};
    if (error.details.retryAfterS !== undefined) headers["Retry-After"] = String(error.details.retryAfterS);
    if (error.status >= 500) log.error(error.code, error.details.cause ?? error);
    return { status: error.status, headers, body: { error: { code: error.code, message: error.message, field: error.details.field } } };
  }
  if (error instanceof ZodError) {
    const issue = error.issues[0];
    const field = issue?.path.join(".") || undefined;
    const message = field ? `${field}: ${issue?.message}` : (issue?.message ?? "Invalid input.");
    return errorPayload(errors.badRequest("input", message, field));
  }
  // Anything else (database, network) is logged in full and masked for the client.
  log.error("unhandled", error);
  return { status: 500, headers: {}, body: { error: { code: "internal:server", message: "Something went wrong on our side; it has been logged." } } };
}

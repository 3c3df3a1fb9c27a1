import { NextResponse } from "next/server";
import { ZodError, type ZodType } from "zod";
import { AppError, errors } from "./errors";
import { log } from "./log";

export function errorResponse(error: unknown): NextResponse {
  if (error instanceof AppError) {
    const headers: Record<string, string> = {};
    if (error.details.retryAfterS !== undefined) headers["Retry-After"] = String(error.details.retryAfterS);
    if (error.status >= 500) log.error(error.code, error.details.cause ?? error);
    return NextResponse.json(
      { error: { code: error.code, message: error.message, field: error.details.field } },
      { status: error.status, headers },
    );
  }
  if (error instanceof ZodError) {
    const issue = error.issues[0];
    const field = issue?.path.join(".") || undefined;
    const message = field ? `${field}: ${issue?.message}` : (issue?.message ?? "Invalid input.");
    return errorResponse(errors.badRequest("input", message, field));
  }
  // Anything else (database, network) is logged in full and masked for the client.
  log.error("unhandled", error);
  return NextResponse.json(
    { error: { code: "internal:server", message: "Something went wrong on our side; it has been logged." } },
    { status: 500 },
  );
}

/** Wraps a route handler so every failure becomes a typed JSON error. */
export function route<Args extends unknown[]>(
  handler: (...args: Args) => Promise<Response>,
): (...args: Args) => Promise<Response> {
  return async (...args: Args) => {
    try {
      return await handler(...args);
    } catch (error) {
      return errorResponse(error);
    }
  };
}

export async function parseJson<T>(request: Request, schema: ZodType<T>): Promise<T> {
  let body: unknown;
  try {
    body = await request.json();
  } catch {
    throw errors.badRequest("input", "The request body must be valid JSON.");
  }
  return schema.parse(body);
}

export function parseQuery<T>(request: Request, schema: ZodType<T>): T {
  return schema.parse(Object.fromEntries(new URL(request.url).searchParams));
}

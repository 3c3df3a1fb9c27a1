import { NextResponse } from "next/server";
import type { ZodType } from "zod";
import { errorPayload, errors } from "./errors";
import type { Lang } from "./i18n";
import { assertCleanText, assertInt32Numbers, parseInput } from "./input";
import { currentLang } from "./lang-server";

export function errorResponse(error: unknown, lang?: Lang): NextResponse {
  const { status, headers, body } = errorPayload(error, lang);
  return NextResponse.json(body, { status, headers });
}

/** The request's language for an error; the default where there is no request to ask. */
async function errorLang(): Promise<Lang | undefined> {
  try {
    return await currentLang();
  } catch {
    return undefined;
  }
}

/**
 * A route's dynamic segments, checked like any other client text: an id with a NUL in it
 * (`/api/battles/abc%00def`) is a 400 naming `id`, never a database error. Read here, before
 * the handler runs, so a handler that fails earlier never leaves a rejected promise behind.
 */
async function checkedContext(context: unknown): Promise<unknown> {
  if (context === null || typeof context !== "object" || !("params" in context)) return context;
  const params: unknown = await (context as { params: unknown }).params;
  assertCleanText(params, { root: "params" });
  return { ...context, params: Promise.resolve(params) };
}

/** Wraps a route handler so every failure becomes a typed JSON error, in the reader's language. */
export function route<Args extends unknown[]>(
  handler: (...args: Args) => Promise<Response>,
): (...args: Args) => Promise<Response> {
  return async (...args: Args) => {
    try {
      if (args.length > 1) (args as unknown[])[1] = await checkedContext(args[1]);
      return await handler(...args);
    } catch (error) {
      return errorResponse(error, await errorLang());
    }
  };
}

export async function parseJson<T>(request: Request, schema: ZodType<T>): Promise<T> {
  let body: unknown;
  try {
    body = await request.json();
  } catch {
    throw errors.badRequest("input", { key: "bodyNotJson" });
  }
  return parseInput(body, schema);
}

/** The query string as an object, its text checked (a NUL in `?categoryId=` is a 400). */
export function queryOf(request: Request): Record<string, string> {
  const query = Object.fromEntries(new URL(request.url).searchParams);
  assertCleanText(query, { root: "query" });
  return query;
}

/** Integer parameters are bounded by their schema (lib/input.ts queryInt) and at most Int32 here. */
export function parseQuery<T>(request: Request, schema: ZodType<T>): T {
  const parsed = schema.parse(queryOf(request));
  assertInt32Numbers(parsed);
  return parsed;
}

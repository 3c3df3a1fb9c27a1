import { NextResponse } from "next/server";
import type { ZodType } from "zod";
import { errorPayload, errors } from "./errors";

export function errorResponse(error: unknown): NextResponse {
  const { status, headers, body } = errorPayload(error);
  return NextResponse.json(body, { status, headers });
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

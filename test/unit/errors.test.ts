import { describe, expect, it } from "vitest";
import { z } from "zod";
import { AppError, errors } from "@/lib/errors";
import { errorResponse } from "@/lib/http";

describe("typed errors", () => {
  it("maps each error type to its HTTP status", () => {
    expect(errors.unauthorized().status).toBe(401);
    expect(errors.forbidden("admin").status).toBe(403);
    expect(errors.notFound("battle").status).toBe(404);
    expect(errors.conflict("vote", "Already voted.").status).toBe(409);
    expect(errors.rateLimited("vote", 12).status).toBe(429);
    expect(errors.unavailable("db", "down").status).toBe(503);
    expect(new AppError("bad_request:input", "x").status).toBe(400);
  });

  it("answers with code, message and Retry-After", async () => {
    const res = errorResponse(errors.rateLimited("vote", 7));
    expect(res.status).toBe(429);
    expect(res.headers.get("Retry-After")).toBe("7");
    expect(await res.json()).toMatchObject({ error: { code: "rate_limit:vote" } });
  });

  it("turns a zod failure into a 400 naming the field", async () => {
    const result = z.object({ prompt: z.string().min(1) }).safeParse({ prompt: "" });
    const res = errorResponse(result.error);
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.error.field).toBe("prompt");
    expect(body.error.message).toContain("prompt");
  });

  it("masks unknown errors such as raw database messages", async () => {
    const res = errorResponse(new Error('relation "users" does not exist'));
    expect(res.status).toBe(500);
    expect(JSON.stringify(await res.json())).not.toContain("relation");
  });
});

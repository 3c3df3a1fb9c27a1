import { Prisma } from "@prisma/client";
import { createServer, type AddressInfo, type Socket } from "node:net";
import { Redis } from "ioredis";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createDb } from "@/lib/db";
import { AppError, errorPayload, errors } from "@/lib/errors";
import { errorResponse } from "@/lib/http";
import { freePort } from "../integration/support/processes";

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

/** What a client gets for `error`: status, Retry-After and code. */
function answer(error: unknown) {
  const { status, headers, body } = errorPayload(error);
  return { status, retryAfter: headers["Retry-After"], code: body.error.code, message: body.error.message };
}

const clientVersion = Prisma.prismaVersion.client;
const known = (code: string, meta?: Record<string, unknown>) =>
  new Prisma.PrismaClientKnownRequestError(`Invalid invocation (${code})`, { code, clientVersion, meta });
// The driver adapter's own error, as Prisma's pg adapter throws it (name and cause.kind).
const adapterError = (cause: Record<string, unknown>) => Object.assign(new Error(String(cause.kind)), { name: "DriverAdapterError", cause });
// node-postgres's server error: a SQLSTATE and a severity.
const serverError = (code: string, message: string) => Object.assign(new Error(message), { code, severity: "FATAL" });

describe("a database that cannot be reached", () => {
  it("is a 503 with Retry-After for each way Prisma and node-postgres report it", () => {
    const cases: [string, unknown][] = [
      ["P1001 can't reach", known("P1001")],
      ["P1002 timed out", known("P1002")],
      ["P1017 server closed the connection", known("P1017")],
      ["P2024 pool timeout", known("P2024")],
      ["P2010 raw query, adapter says not reachable", known("P2010", { driverAdapterError: adapterError({ kind: "DatabaseNotReachable", host: "127.0.0.1", port: 5432 }) })],
      ["initialisation error", new Prisma.PrismaClientInitializationError("Can't reach database server", clientVersion, "P1001")],
      ["adapter: starting up (57P03)", adapterError({ kind: "postgres", code: "57P03", message: "the database system is starting up" })],
      ["adapter: connection closed", adapterError({ kind: "ConnectionClosed" })],
      ["pg: admin shutdown (57P01)", serverError("57P01", "terminating connection due to administrator command")],
      ["pg: shutting down (57P03)", serverError("57P03", "the database system is shutting down")],
      ["pg: too many connections", serverError("53300", "sorry, too many clients already")],
      ["pg: connection failure (08006)", serverError("08006", "connection failure")],
      ["pg: terminated", new Error("Connection terminated unexpectedly")],
      ["pg: pool connect timeout", new Error("timeout exceeded when trying to connect")],
      ["socket: refused", Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED", syscall: "connect", errno: -111 })],
      ["wrapped as a cause", new Error("loading the battle failed", { cause: new Error("Connection terminated due to connection timeout") })],
      ["inside an AggregateError", new AggregateError([Object.assign(new Error("connect ECONNREFUSED ::1:5432"), { code: "ECONNREFUSED" })], "")],
    ];
    for (const [name, error] of cases) {
      expect(answer(error), name).toMatchObject({ status: 503, retryAfter: "5", code: "unavailable:database" });
    }
  });

  it("recognises the errors a real client raises against a closed port", async () => {
    const url = `postgresql://leitai@127.0.0.1:${await freePort()}/leitai`;
    const db = createDb(url);
    const pool = new pg.Pool({ connectionString: url, connectionTimeoutMillis: 2000 });
    try {
      const thrown = await Promise.all([
        db.user.findFirst().catch((e: unknown) => e),
        db.$queryRaw`SELECT 1`.catch((e: unknown) => e),
        pool.query("SELECT 1").catch((e: unknown) => e),
      ]);
      for (const error of thrown) expect(answer(error)).toMatchObject({ status: 503, retryAfter: "5", code: "unavailable:database" });
    } finally {
      await Promise.all([db.$disconnect(), pool.end()]);
    }
  });

  it("keeps a user-safe message, in the reader's language: no host, port or driver text", () => {
    const said = (lang: "zh" | "en") => errorPayload(known("P1001"), lang).body.error.message;
    expect(said("en")).toMatch(/try again/);
    expect(said("zh")).toMatch(/重试/);
    for (const message of [said("en"), said("zh")]) expect(message).not.toMatch(/127\.0\.0\.1|P1001|Prisma/);
  });

  it("does not turn other database failures into 503s", () => {
    expect(answer(known("P2002", { target: ["slug"] }))).toMatchObject({ status: 500, code: "internal:server" });
    expect(answer(serverError("22P05", "unsupported Unicode escape sequence"))).toMatchObject({ status: 500 });
    expect(answer(new Error("boom"))).toMatchObject({ status: 500, retryAfter: undefined });
    // An outbound fetch (an engine, a remote API) that is refused is not the database.
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:8000"), { code: "ECONNREFUSED" });
    expect(answer(new TypeError("fetch failed", { cause: refused }))).toMatchObject({ status: 500 });
    // ... nor when that fetch failure is itself wrapped, or a reset socket is some other error's cause.
    expect(answer(new Error("engine call failed", { cause: new TypeError("fetch failed", { cause: refused }) }))).toMatchObject({ status: 500 });
    const reset = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
    expect(answer(new Error("reading the upload failed", { cause: reset }))).toMatchObject({ status: 500 });
    // A protocol violation (too many bind parameters) is our bug, not an outage to retry.
    expect(answer(serverError("08P01", "bind message has 70000 parameter formats but 0 parameters"))).toMatchObject({ status: 500 });
    expect(answer(errors.conflict("vote", "Already voted."))).toMatchObject({ status: 409, code: "conflict:vote" });
  });
});

describe("a Redis that cannot be reached", () => {
  it("is a 503 unavailable:queue with Retry-After (a real ioredis client with a bounded retry)", async () => {
    const client = new Redis(`redis://127.0.0.1:${await freePort()}`, { maxRetriesPerRequest: 1, connectTimeout: 500, retryStrategy: () => 50 });
    client.on("error", () => {}); // the refused connection is the point
    try {
      const error = await client.multi().incr("ratelimit:test").exec().catch((e: unknown) => e);
      expect(answer(error)).toMatchObject({ status: 503, retryAfter: "5", code: "unavailable:queue" });
    } finally {
      client.disconnect();
    }
  });

  it("so is one that accepts the connection and never answers, once the command times out", async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const client = new Redis(`redis://127.0.0.1:${(silent.address() as AddressInfo).port}`, { maxRetriesPerRequest: 1, commandTimeout: 200 });
    client.on("error", () => {});
    try {
      const error = await client.incr("ratelimit:test").catch((e: unknown) => e);
      expect((error as Error).message).toMatch(/timed out/);
      expect(answer(error)).toMatchObject({ status: 503, retryAfter: "5", code: "unavailable:queue" });
    } finally {
      client.disconnect();
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });
});

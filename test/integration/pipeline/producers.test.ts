import { once } from "node:events";
import { connect, createServer, type AddressInfo, type Socket } from "node:net";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { scheduleRatingsRecompute } from "@/lib/arena/ratings-job";
import { castVote } from "@/lib/arena/votes";
import { db } from "@/lib/db";
import { env } from "@/lib/env";
import { errorPayload, serviceUnavailable } from "@/lib/errors";
import { startJudgeRun } from "@/lib/judge/runs";
import { startPregen } from "@/lib/pipeline/pregen";
import { closeQueues, connectQueues, pregenQueue, ratingsQueue } from "@/lib/pipeline/queues";
import { closeRedis, redis } from "@/lib/redis";
import { uniq } from "../support/arena";
import { freePort } from "../support/processes";
import { ThrowawayRedisServer } from "../support/throwaway-redis";
import { createModel, releasePipeline } from "./helpers";

// Producers fail fast when their Redis is away, and the caller decides: a vote is stored all
// the same (its recompute is owed to the reconciler), an admin starting pre-generation or a
// judge run gets a 503 and nothing is recorded. Each test points this process's producers at
// a Redis of its own; rate limits and the rest keep the suite's Redis, but for the last case,
// where the shared command connection (redis()) meets a Redis that hangs.

/** The error a producer rejected with, as the site would answer it. */
function asAnswered(error: unknown) {
  const payload = errorPayload(error);
  return { status: payload.status, code: payload.body.error.code, retryAfter: payload.headers["Retry-After"] };
}

async function pointQueuesAt(url: string) {
  await closeQueues();
  return connectQueues(url);
}

const closedUrl = async () => `redis://127.0.0.1:${await freePort()}`;

/** A TCP server that takes connections and never answers: a Redis that hangs. */
async function silentServer() {
  const sockets: Socket[] = [];
  const server = createServer((socket) => sockets.push(socket));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `redis://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

/**
 * The suite's Redis behind a proxy that stops passing commands on once one PING went through:
 * the queues' reachability check passes, then Redis hangs, as one going away between the two.
 */
async function redisThatHangsAfterPing() {
  const suite = new URL(env().REDIS_URL);
  const sockets: Socket[] = [];
  const server = createServer((client) => {
    const upstream = connect(Number(suite.port), suite.hostname);
    sockets.push(client, upstream);
    for (const socket of [client, upstream]) socket.on("error", () => undefined);
    let stalled = false;
    client.on("data", (chunk) => {
      if (stalled) return;
      upstream.write(chunk);
      stalled = /\r\nPING\r\n/i.test(chunk.toString("latin1"));
    });
    upstream.on("data", (chunk) => client.write(chunk));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `redis://127.0.0.1:${(server.address() as AddressInfo).port}${suite.pathname}`,
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

/** A battle ready for its vote: two disabled models (never drawn by matchmaking), both answers complete. */
async function battleReadyForVote(voterKey: string) {
  const models = await Promise.all([0, 1].map((i) => db.model.create({
    data: { slug: uniq(`producer-${i}`), displayName: `Producer ${i}`, kind: "local", status: "disabled", engine: { path: "/nonexistent", servedName: "p" } },
  })));
  const generations = await Promise.all(models.map((m, i) => db.generation.create({
    data: { modelId: m.id, purpose: "live", status: "completed", messages: [{ role: "user", content: "hi" }], text: `Answer ${i}.`, finishedAt: new Date() },
  })));
  const battle = await db.battle.create({
    data: { mode: "live", modelAId: models[0]!.id, modelBId: models[1]!.id, voterKey, ipHash: "producers", status: "ready" },
  });
  await db.battleGeneration.createMany({ data: [{ battleId: battle.id, side: "A", generationId: generations[0]!.id }, { battleId: battle.id, side: "B", generationId: generations[1]!.id }] });
  return { battle, models };
}

describe("producers whose Redis is away", () => {
  const cleanups: (() => Promise<unknown> | void)[] = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await closeQueues();
  });

  afterAll(async () => {
    await releasePipeline();
  });

  it("reject at once when nothing listens on the port: a 503 unavailable:queue", async () => {
    await pointQueuesAt(await closedUrl());
    const error = await ratingsQueue().add("recompute", { reason: "admin" }).catch((e: unknown) => e);
    expect(asAnswered(error)).toEqual({ status: 503, code: "unavailable:queue", retryAfter: "5" });
    // Reads fail the same way (the reconciler and the admin's views are producers too).
    expect(serviceUnavailable(await pregenQueue().getJobState("nothing").catch((e: unknown) => e))?.code).toBe("unavailable:queue");
  });

  it("reject on their own timeout when Redis takes the connection and never answers", async () => {
    const silent = await silentServer();
    cleanups.push(silent.close);
    await pointQueuesAt(silent.url);
    const error = await ratingsQueue().add("recompute", { reason: "admin" }).catch((e: unknown) => e);
    // The command's own timeout (PRODUCER_TIMEOUT_MS) ended the wait, not a retry or a test bound.
    expect((error as Error).message).toMatch(/Command timed out/);
    expect(asAnswered(error)).toMatchObject({ status: 503, code: "unavailable:queue" });
  });

  it("work again once their Redis is back, even a queue whose first command failed", async () => {
    const port = await freePort();
    const conn = await pointQueuesAt(`redis://127.0.0.1:${port}`);
    expect(serviceUnavailable(await ratingsQueue().add("recompute", { reason: "admin" }).catch((e: unknown) => e))?.code).toBe("unavailable:queue");
    const server = await new ThrowawayRedisServer().start(["--save", "", "--appendonly", "no"], port);
    cleanups.push(() => server.stop());
    if (conn.status !== "ready") await once(conn, "ready");
    const job = await ratingsQueue().add("recompute", { reason: "admin" });
    expect(await ratingsQueue().getJobState(job.id!)).toBe("waiting");
  });

  it("a vote is stored and answered all the same; its recompute is left to the reconciler", async () => {
    await pointQueuesAt(await closedUrl());
    const voterKey = `anon:${uniq("producers")}`;
    const { battle, models } = await battleReadyForVote(voterKey);
    cleanups.push(async () => {
      await db.battle.delete({ where: { id: battle.id } });
      await db.generation.deleteMany({ where: { modelId: { in: models.map((m) => m.id) } } });
      await db.model.deleteMany({ where: { id: { in: models.map((m) => m.id) } } });
    });

    const result = await castVote({ battleId: battle.id, voter: { voterKey, userId: null, ipHash: "producers" }, winner: "A" });
    expect(result).toMatchObject({ battleId: battle.id, winner: "A", valid: true, rated: true });
    expect(await db.vote.findUnique({ where: { battleId: battle.id }, select: { winner: true, rated: true } })).toEqual({ winner: "A", rated: true });
    // The recompute the vote asked for could not be queued: scheduling says so, and never throws.
    expect(await scheduleRatingsRecompute()).toBe(false);
  });

  it("an admin starting pre-generation or a judge run gets a 503, and no run is recorded", async () => {
    const [judge, a, b] = await Promise.all([0, 1, 2].map(() => createModel({ kind: "openai", engine: { baseUrl: "http://127.0.0.1:9/v1", remoteModel: "m" } })));
    cleanups.push(() => db.judgeRun.deleteMany({ where: { judgeModelId: judge!.id } }));
    await pointQueuesAt(await closedUrl());

    const pregen = await startPregen({ modelId: a!.id, scope: "all" }).catch((e: unknown) => e);
    expect(asAnswered(pregen)).toEqual({ status: 503, code: "unavailable:queue", retryAfter: "5" });
    expect(await db.pregenRun.count({ where: { modelId: a!.id } })).toBe(0);

    const judging = await startJudgeRun({ judgeModelId: judge!.id, contestantIds: [a!.id, b!.id], template: "pairwise", lang: "en" }).catch((e: unknown) => e);
    expect(asAnswered(judging)).toEqual({ status: 503, code: "unavailable:queue", retryAfter: "5" });
    expect(await db.judgeRun.count({ where: { judgeModelId: judge!.id } })).toBe(0);
  });
});

describe("a start whose Redis goes away after the check", () => {
  afterEach(async () => {
    await closeQueues();
  });

  it("answers 503 and takes its run back, so the admin's retry leaves one run, not two", async () => {
    const [judge, a, b] = await Promise.all([0, 1, 2].map(() => createModel({ kind: "openai", engine: { baseUrl: "http://127.0.0.1:9/v1", remoteModel: "m" } })));
    const proxies: { close: () => void }[] = [];
    // Each start on a proxy of its own: its PING passes, then its add hangs.
    const hangAfterPing = async () => {
      const hanging = await redisThatHangsAfterPing();
      proxies.push(hanging);
      await pointQueuesAt(hanging.url);
    };
    const judgeVersion = async () => Number((await db.$queryRaw<{ v: bigint | null }[]>`
      SELECT last_value AS v FROM pg_sequences WHERE sequencename = 'judge_runs_version_seq'`)[0]?.v ?? 0);
    try {
      await hangAfterPing();
      const pregen = await startPregen({ modelId: a!.id, scope: "all" }).catch((e: unknown) => e);
      expect((pregen as Error).message).toMatch(/Command timed out/); // the add, after a PING that passed
      expect(asAnswered(pregen)).toMatchObject({ status: 503, code: "unavailable:queue" });
      expect(await db.pregenRun.count({ where: { modelId: a!.id } })).toBe(0);

      await hangAfterPing();
      const versionBefore = await judgeVersion();
      const judging = await startJudgeRun({ judgeModelId: judge!.id, contestantIds: [a!.id, b!.id], template: "pairwise", lang: "en" }).catch((e: unknown) => e);
      expect(asAnswered(judging)).toMatchObject({ status: 503, code: "unavailable:queue" });
      expect(await db.judgeRun.count({ where: { judgeModelId: judge!.id } })).toBe(0);
      // A run was recorded (it took a version number) and taken back.
      expect(await judgeVersion()).toBe(versionBefore + 1);

      // The retry, with Redis back: one run each.
      for (const proxy of proxies) proxy.close();
      await closeQueues();
      connectQueues();
      const run = await startPregen({ modelId: a!.id, scope: "all" });
      expect(await db.pregenRun.findMany({ where: { modelId: a!.id }, select: { id: true } })).toEqual([{ id: run.id }]);
      const { run: judgeRun } = await startJudgeRun({ judgeModelId: judge!.id, contestantIds: [a!.id, b!.id], template: "pairwise", lang: "en" });
      expect(await db.judgeRun.findMany({ where: { judgeModelId: judge!.id }, select: { id: true } })).toEqual([{ id: judgeRun.id }]);
      await pregenQueue().remove(run.id);
    } finally {
      for (const proxy of proxies) proxy.close();
      await db.judgeRun.deleteMany({ where: { judgeModelId: judge!.id } });
    }
  });
});

describe("the shared command connection whose Redis hangs", () => {
  afterEach(() => closeRedis()); // the next redis() is the suite's own again

  it("answers a vote with a 503 on its own timeout, and stores nothing: the voter can vote again", async () => {
    const silent = await silentServer();
    closeRedis();
    redis(silent.url);
    const voterKey = `anon:${uniq("hung")}`;
    const { battle, models } = await battleReadyForVote(voterKey);
    try {
      const voter = { voterKey, userId: null, ipHash: "hung-redis" };
      // The vote's rate limit is its first Redis command; COMMAND_TIMEOUT_MS ends the wait.
      const error = await castVote({ battleId: battle.id, voter, winner: "B" }).catch((e: unknown) => e);
      expect((error as Error).message).toMatch(/Command timed out/);
      expect(asAnswered(error)).toEqual({ status: 503, code: "unavailable:queue", retryAfter: "5" });
      expect(await db.vote.count({ where: { battleId: battle.id } })).toBe(0);

      silent.close();
      closeRedis(); // Redis answers again (the suite's own)
      expect(await castVote({ battleId: battle.id, voter, winner: "B" })).toMatchObject({ winner: "B", valid: true });
    } finally {
      silent.close();
      await db.vote.deleteMany({ where: { battleId: battle.id } });
      await db.battle.delete({ where: { id: battle.id } });
      await db.generation.deleteMany({ where: { modelId: { in: models.map((m) => m.id) } } });
      await db.model.deleteMany({ where: { id: { in: models.map((m) => m.id) } } });
    }
  });
});

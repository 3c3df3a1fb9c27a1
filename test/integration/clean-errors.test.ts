// Clean errors (issue 23): a client's bad input is a 400 naming the field, never a database
// error; a database that cannot be reached is a 503 with Retry-After, never a 500, and a
// vote the server acknowledged is stored however PostgreSQL restarts meanwhile.
import { execFile, execFileSync, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import type { PrismaClient } from "@prisma/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashPassword } from "@/lib/auth/password";
import { createDb, db } from "@/lib/db";
import { signVoterId, VOTER_COOKIE } from "@/lib/voter-id";
import { answeredQuestion, bankBattle, isolatedModels, uniq } from "./support/arena";
import { Client } from "./support/http";
import { freePort, ROOT, startSite, ThrowawayPostgres } from "./support/processes";
import { adminClient, voterClient } from "./support/users";

type ErrorBody = { error: { code: string; message: string; field?: string; key?: string } };

async function errorOf(res: Response) {
  return { status: res.status, ...((await res.json()) as ErrorBody).error };
}

const jsonPost = (body: unknown) => ({ method: "POST", headers: { "content-type": "application/json" }, body: typeof body === "string" ? body : JSON.stringify(body) });

describe("bad input is a 400 naming the field", () => {
  let battleId: string;
  let owner: Client;

  beforeAll(async () => {
    const models = await isolatedModels(2);
    await answeredQuestion(models);
    owner = new Client();
    battleId = await bankBattle(owner);
  });

  it("a NUL in a battle id: the battle, its stream and its vote (fast path and Next.js handler)", async () => {
    const signedIn = await voterClient();
    const answers = [
      await owner.fetch("/api/battles/abc%00def"),
      await owner.fetch("/api/battles/abc%00def/stream?side=A"),
      await owner.fetch("/api/battles/abc%00def/vote", jsonPost({ winner: "A" })), // anonymous: lib/web fast path
      await signedIn.fetch("/api/battles/abc%00def/vote", jsonPost({ winner: "A" })), // signed in: Next.js
      await owner.fetch("/api/battles/abc%00def/turns", jsonPost({ prompt: "more" })),
    ];
    for (const res of answers) {
      // Said in the reader's language (this client sends none: the arena's, Chinese), by its catalogue key.
      expect(await errorOf(res)).toMatchObject({ status: 400, code: "bad_request:input", field: "id", key: "textNul", message: "id 不能含有 NUL 字符（U+0000）" });
    }
  });

  it("a path whose percent-encoding is not UTF-8 (an encoded lone surrogate)", async () => {
    for (const url of ["/api/battles/abc%ED%A0%80", "/api/battles/%zz/stream?side=A"]) {
      expect(await errorOf(await owner.fetch(url))).toMatchObject({ status: 400, code: "bad_request:input", field: "path", key: "pathNotUtf8" });
    }
  });

  it("a NUL or a lone surrogate in a JSON body: live prompt, category, vote reason on both paths", async () => {
    const cases: [string, string][] = [
      ['{"mode":"live","prompt":"hello\\u0000world"}', "prompt"],
      ['{"mode":"live","prompt":"half a pair \\ud83d"}', "prompt"],
      ['{"mode":"bank","categoryId":"coding\\u0000"}', "categoryId"],
      ['{"mode":"named","modelA":"a","modelB":"b\\udc00"}', "modelB"],
    ];
    for (const [body, field] of cases) {
      expect(await errorOf(await new Client().fetch("/api/battles", jsonPost(body))), body).toMatchObject({ status: 400, code: "bad_request:input", field });
    }
    const signedIn = await voterClient();
    const signedInBattle = await bankBattle(signedIn);
    const reasons = ['{"winner":"A","reason":"nice\\u0000"}', '{"winner":"A","reason":"\\udfff"}'];
    for (const body of reasons) {
      const anonymous = await errorOf(await owner.fetch(`/api/battles/${battleId}/vote`, jsonPost(body)));
      const viaNext = await errorOf(await signedIn.fetch(`/api/battles/${signedInBattle}/vote`, jsonPost(body)));
      expect(anonymous).toMatchObject({ status: 400, code: "bad_request:input", field: "reason" });
      expect(viaNext).toEqual(anonymous);
    }
    expect(await db.vote.count({ where: { battleId: { in: [battleId, signedInBattle] } } })).toBe(0);
  });

  it("integers in query strings are range-checked (turn, after, page)", async () => {
    const stream = (qs: string) => owner.fetch(`/api/battles/${battleId}/stream?side=A&${qs}`);
    expect(await errorOf(await stream("turn=2147483648"))).toMatchObject({ status: 400, field: "turn" });
    expect(await errorOf(await stream("turn=10001"))).toMatchObject({ status: 400, field: "turn" });
    expect(await errorOf(await stream("after=2147483648"))).toMatchObject({ status: 400, field: "after" });
    const ok = await owner.fetch(`/api/battles/${battleId}/stream?side=A&turn=0`, { headers: { accept: "text/event-stream" } });
    expect(ok.status).toBe(200);
    await ok.body?.cancel();

    const admin = await adminClient();
    expect(await errorOf(await admin.fetch("/api/admin/votes?page=2147483648"))).toMatchObject({ status: 400, field: "page" });
    expect(await errorOf(await admin.fetch("/api/admin/questions?page=2147483648"))).toMatchObject({ status: 400, field: "page" });
    expect(await errorOf(await admin.fetch("/api/generations/x/stream?after=99999999999"))).toMatchObject({ status: 400, field: "after" });
  });

  it("admin forms and filters: a NUL in a body field or a query parameter", async () => {
    const admin = await adminClient();
    const category = await admin.fetch("/api/admin/categories", jsonPost({ slug: uniq("nul"), nameZh: "名\u0000字", nameEn: "Name" }));
    expect(await errorOf(category)).toMatchObject({ status: 400, code: "bad_request:input", field: "nameZh" });
    expect(await errorOf(await admin.fetch("/api/admin/votes?voterKey=anon%00x"))).toMatchObject({ status: 400, field: "voterKey" });
    expect(await errorOf(await admin.fetch("/api/admin/questions?q=%00"))).toMatchObject({ status: 400, field: "q" });
    expect(await errorOf(await admin.fetch("/api/admin/users?q=a%00b"))).toMatchObject({ status: 400, field: "q" });
    expect(await errorOf(await admin.fetch("/api/admin/questions/abc%00"))).toMatchObject({ status: 400, field: "id" });
  });

  it("admin uploads: a NUL in an imported question or battle is a problem on its line, and nothing is written", async () => {
    const admin = await adminClient();
    const text = uniq("imported question");
    const upload = (url: string, body: string) => admin.fetch(url, { method: "POST", body });
    const jsonl = await upload("/api/admin/questions/import?format=jsonl&dryRun=0", JSON.stringify({ text: `${text}\u0000`, category: "coding", language: "en" }) + "\n");
    expect(jsonl.status).toBe(400);
    expect(((await jsonl.json()) as { report: { errors: unknown[] } }).report.errors).toContainEqual({ line: 1, field: "text", key: "textNul", values: { field: "text" }, message: "text: must not contain NUL characters (U+0000)" });
    const csv = await upload("/api/admin/questions/import?format=csv&dryRun=0", `text,category,language\n"${text}\u0000",coding,en\n`);
    expect(csv.status).toBe(400);
    expect(((await csv.json()) as { report: { errors: unknown[] } }).report.errors).toContainEqual({ line: 2, field: "text", key: "textNul", values: { field: "text" }, message: "text: must not contain NUL characters (U+0000)" });
    expect(await db.question.count({ where: { text: { startsWith: text } } })).toBe(0);

    const conversation = (answer: string) => [{ role: "user", content: "hi\u0000" }, { role: "assistant", content: answer }];
    const battle = { question_id: uniq("nul-battle"), model_a: "nul-a", model_b: "nul-b", winner: "model_a", conversation_a: conversation("a"), conversation_b: conversation("b") };
    const battles = await upload("/api/admin/battles/import?dryRun=0", JSON.stringify(battle) + "\n");
    expect(battles.status).toBe(400);
    const report = (await battles.json()) as { written: boolean; problems: unknown[] };
    expect(report.written).toBe(false);
    expect(report.problems).toContainEqual({ line: 1, field: "conversation_a.0.content", message: expect.stringMatching(/NUL/) });
  });
});

describe("a Redis that cannot be reached", () => {
  let site: ChildProcess | undefined;
  afterAll(() => { site?.kill(); });

  it("a vote (rate limits live in Redis) answers 503 unavailable:queue with Retry-After on both paths, storing nothing", async () => {
    const models = await isolatedModels(2);
    await answeredQuestion(models);
    const anonymous = new Client();
    const signedIn = await voterClient();
    const battles = [await bankBattle(anonymous), await bankBattle(signedIn)];
    // A second site on the same database whose Redis port has nothing listening; the
    // voters' cookies are signed with the same secrets, so they are the same voters there.
    const port = await freePort();
    site = await startSite(port, { REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
    for (const [client, battleId] of [[anonymous, battles[0]!], [signedIn, battles[1]!]] as const) {
      const res = await fetch(`http://127.0.0.1:${port}/api/battles/${battleId}/vote`, {
        ...jsonPost({ winner: "A" }), headers: { "content-type": "application/json", cookie: client.cookieHeader() },
      });
      expect(res.headers.get("retry-after")).toMatch(/^[1-9]\d*$/);
      expect(await errorOf(res)).toMatchObject({ status: 503, code: "unavailable:queue" });
    }
    expect(await db.vote.count({ where: { battleId: { in: battles } } })).toBe(0);
  });
});

const execFileAsync = promisify(execFile);

/** Stops or starts the throwaway cluster without blocking this process: votes keep going meanwhile. */
async function services(pg: ThrowawayPostgres, command: "stop-pg" | "start-pg") {
  await execFileAsync("bash", [path.join(ROOT, "scripts/services.sh"), command], {
    env: { ...process.env, LEITAI_STATE_DIR: pg.dir, LEITAI_PG_PORT: String(pg.port) },
  });
}

const WINNERS = ["A", "B", "tie", "both_bad"] as const;

/** Two models, one answered question and `count` battles ready for a vote, dealt round the voters. */
async function battlesReadyForVotes(tdb: PrismaClient, voterKeys: string[], count: number) {
  const category = await tdb.category.create({ data: { slug: uniq("restart"), nameZh: "重启", nameEn: "Restart" } });
  const [a, b] = await Promise.all([0, 1].map((i) => tdb.model.create({
    data: { slug: uniq(`restart-${i}`), displayName: `Restart ${i}`, organisation: "Test", kind: "local", engine: { path: "/nonexistent", servedName: `r${i}` } },
  })));
  const question = await tdb.question.create({ data: { text: "Why restart?", textHash: uniq("hash"), categoryId: category.id, language: "en" } });
  const generations = await Promise.all([a!, b!].map((m, i) => tdb.generation.create({
    data: { modelId: m.id, questionId: question.id, purpose: "pregen", status: "completed", messages: [{ role: "user", content: "Why restart?" }], text: `Answer ${i}.`, finishedAt: new Date() },
  })));
  const battles = Array.from({ length: count }, (_, i) => voterKeys[i % voterKeys.length]!).map((voterKey) => ({
    id: randomUUID() as string, mode: "bank" as const, questionId: question.id, categoryId: category.id, modelAId: a!.id, modelBId: b!.id,
    voterKey, userId: voterKey.startsWith("user:") ? voterKey.slice(5) : null, ipHash: "test", status: "ready" as const,
  }));
  await tdb.battle.createMany({ data: battles });
  await tdb.battleGeneration.createMany({
    data: battles.flatMap((battle) => [
      { battleId: battle.id, side: "A" as const, generationId: generations[0]!.id },
      { battleId: battle.id, side: "B" as const, generationId: generations[1]!.id },
    ]),
  });
  return battles;
}

describe("PostgreSQL restarted under a vote load", () => {
  let pg: ThrowawayPostgres;
  let tdb: PrismaClient;
  let site: ChildProcess;
  let baseUrl: string;

  beforeAll(async () => {
    pg = new ThrowawayPostgres(await freePort());
    pg.start();
    execFileSync(path.join(ROOT, "node_modules/.bin/prisma"), ["migrate", "deploy"], { cwd: ROOT, env: { ...process.env, DATABASE_URL: pg.url }, stdio: "pipe" });
    tdb = createDb(pg.url);
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    // The load comes from one address and few voters: the rate limits are not under test here.
    site = await startSite(port, { DATABASE_URL: pg.url, LEITAI_VOTE_LIMIT_PER_VOTER: "100000", LEITAI_VOTE_LIMIT_PER_IP: "100000" });
  });

  afterAll(async () => {
    site?.kill();
    await tdb?.$disconnect();
    try { pg?.stop(); } catch { /* already stopped */ }
    if (pg) rmSync(pg.dir, { recursive: true, force: true });
  });

  it("answers 503 with Retry-After meanwhile (never 500), and stores exactly the votes it acknowledged", async () => {
    // Voters on both paths: anonymous (lib/web fast path) and signed in (the Next.js handler).
    const anonymousIds = [randomUUID(), randomUUID(), randomUUID()];
    const users = await Promise.all([0, 1].map(async (i) => {
      const password = `pw-${randomUUID()}`;
      const user = await tdb.user.create({ data: { email: `restart-${i}-${randomUUID()}@test.leitai`, role: "voter", passwordHash: await hashPassword(password) } });
      const client = new Client(baseUrl);
      await client.signIn(user.email, password);
      return { voterKey: `user:${user.id}`, cookie: client.cookieHeader() };
    }));
    const voters = [
      ...anonymousIds.map((id) => ({ voterKey: `anon:${id}`, cookie: `${VOTER_COOKIE}=${signVoterId(id)}` })),
      ...users,
    ];
    const cookieOf = new Map(voters.map((v) => [v.voterKey, v.cookie]));
    const battles = await battlesReadyForVotes(tdb, voters.map((v) => v.voterKey), 600);
    const winnerOf = new Map(battles.map((b, i) => [b.id, WINNERS[i % WINNERS.length]!]));

    // Each battle is voted on until acknowledged: a 503 puts it back in line, as a voter
    // would try again after Retry-After.
    // Battles are handed out per phase, so some are always left to vote on while PostgreSQL is
    // away and after it is back, however fast the machine votes.
    const reserve = battles.map((b) => b.id);
    const pending = reserve.splice(0, 100);
    const voterOf = new Map(battles.map((b) => [b.id, b.voterKey]));
    const acknowledged = new Set<string>();
    const statuses = new Map<number, number>();
    const problems: string[] = [];
    let unavailable = 0;
    const refused = new Set<string>(); // battles whose vote got a 503 at least once
    let phase: "before" | "stopping" | "down" | "starting" | "after" | "retry" = "before";
    const acksIn = { before: 0, stopping: 0, down: 0, starting: 0, after: 0, retry: 0 };
    let loadOn = true;

    async function vote(battleId: string): Promise<void> {
      const res = await fetch(`${baseUrl}/api/battles/${battleId}/vote`, {
        method: "POST",
        headers: { "content-type": "application/json", cookie: cookieOf.get(voterOf.get(battleId)!)! },
        body: JSON.stringify({ winner: winnerOf.get(battleId) }),
      });
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      const body = (await res.json()) as Partial<ErrorBody> & { winner?: string };
      if (res.status === 200 && body.winner === winnerOf.get(battleId)) {
        acknowledged.add(battleId);
        acksIn[phase]++;
      } else if (res.status === 503 && Number(res.headers.get("retry-after")) > 0 && body.error?.code === "unavailable:database") {
        unavailable++;
        refused.add(battleId);
        pending.push(battleId);
      } else {
        problems.push(`${res.status} retry-after=${res.headers.get("retry-after")} ${JSON.stringify(body)}`);
      }
    }

    async function sender() {
      while (loadOn) {
        // While PostgreSQL stops and is away, fresh battles keep coming (there is always a vote to
        // refuse), and 100 stay for after the restart.
        const keep = phase === "stopping" ? 250 : phase === "down" ? 100 : Infinity;
        const battleId = pending.shift() ?? (reserve.length > keep ? reserve.shift() : undefined);
        if (!battleId) {
          // Another sender's 503 may put a vote back in line: wait for it while the load is on.
          if (phase === "retry") return;
          await new Promise((r) => setTimeout(r, 20));
          continue;
        }
        await vote(battleId);
        // A little room between one voter's requests keeps a fast stream of 503s from
        // racing through the line while PostgreSQL is down.
        await new Promise((r) => setTimeout(r, 10));
      }
    }

    const until = async (what: string, condition: () => boolean, timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!condition()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (${JSON.stringify({ acksIn, unavailable, problems: problems.slice(0, 3) })})`);
        if (site.exitCode !== null) throw new Error(`the site exited (${site.exitCode}) while ${what}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };

    const senders = Array.from({ length: 6 }, () => sender());
    await until("votes before the restart", () => acknowledged.size >= 30);
    phase = "stopping";
    await services(pg, "stop-pg");
    phase = "down";
    await until("503s while PostgreSQL is down", () => unavailable >= 20);
    phase = "starting";
    await services(pg, "start-pg");
    phase = "after";
    pending.push(...reserve.splice(0));
    await until("votes after the restart", () => acksIn.after >= 30);
    loadOn = false;
    await Promise.all(senders);

    // Every vote acknowledged under the load is on disk. One stored without an
    // acknowledgement can only be one whose commit raced the shutdown and got a 503.
    const storedAfterLoad = new Set((await tdb.vote.findMany({ select: { battleId: true } })).map((v) => v.battleId));
    for (const id of acknowledged) expect(storedAfterLoad.has(id), `acknowledged vote on ${id} stored`).toBe(true);
    for (const id of storedAfterLoad) expect(acknowledged.has(id) || refused.has(id), `vote on ${id} stored unasked`).toBe(true);

    // The voters whose vote got a 503 try again now; a vote that was committed just as the
    // connection dropped answers 200 with the same result (castVote is idempotent).
    const retry = [...refused].filter((id) => !acknowledged.has(id));
    pending.splice(0, pending.length, ...retry);
    phase = "retry";
    loadOn = true;
    await Promise.all(Array.from({ length: 4 }, () => sender()));
    expect(retry.every((id) => acknowledged.has(id))).toBe(true);

    expect(problems).toEqual([]);
    expect([...statuses.keys()].sort()).toEqual([200, 503]);
    expect(unavailable).toBeGreaterThanOrEqual(20);
    expect(acksIn.before).toBeGreaterThanOrEqual(30);
    expect(acksIn.after).toBeGreaterThanOrEqual(30);

    const stored = await tdb.vote.findMany({ select: { battleId: true, winner: true, voterKey: true, userId: true } });
    expect(new Set(stored.map((v) => v.battleId))).toEqual(acknowledged);
    for (const v of stored) {
      expect(v.winner).toBe(winnerOf.get(v.battleId));
      expect(v.voterKey).toBe(voterOf.get(v.battleId));
      expect(v.userId !== null).toBe(v.voterKey.startsWith("user:"));
    }
    // Both paths were under the load, and both answered 503 during the outage.
    const refusedKinds = new Set([...refused].map((id) => voterOf.get(id)!.split(":")[0]));
    expect(refusedKinds).toEqual(new Set(["anon", "user"]));
    expect(stored.some((v) => v.voterKey.startsWith("anon:")) && stored.some((v) => v.voterKey.startsWith("user:"))).toBe(true);
  }, 180_000);
});

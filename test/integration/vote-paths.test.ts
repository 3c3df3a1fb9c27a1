// The production server answers anonymous votes itself (lib/web/vote-fast-path.ts) and hands
// signed-in ones to the Next.js handler. Both must behave as one endpoint.
import { beforeAll, describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import { hashIp } from "@/lib/voter-id";
import { freshBankBattle, isolatedModels } from "./support/arena";
import { Client } from "./support/http";
import { voterClient } from "./support/users";

function postVote(client: Client, battleId: string, body: string, headers: Record<string, string> = {}) {
  return client.fetch(`/api/battles/${battleId}/vote`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
}

describe("one vote endpoint, two paths", () => {
  let models: Awaited<ReturnType<typeof isolatedModels>>;

  beforeAll(async () => {
    models = await isolatedModels(2);
  });

  it("a signed-in voter's vote (Next.js handler) is stored under the user and reveals the models", async () => {
    const voter = await voterClient();
    const id = await freshBankBattle(voter, models);
    const res = await postVote(voter, id, JSON.stringify({ winner: "B", reason: "shorter" }));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { reveal: Record<"A" | "B", { slug: string }> };
    expect(new Set([body.reveal.A.slug, body.reveal.B.slug])).toEqual(new Set(models.map((m) => m.slug)));
    const stored = await db.vote.findUniqueOrThrow({ where: { battleId: id } });
    expect(stored.userId).not.toBeNull();
    expect(stored.voterKey).toBe(`user:${stored.userId}`);
    expect(stored.reason).toBe("shorter");
  });

  it("an anonymous vote answers with the same headers and body shape as the Next.js handler", async () => {
    const anonymous = new Client();
    const anonymousRes = await postVote(anonymous, await freshBankBattle(anonymous, models), JSON.stringify({ winner: "A" }));
    const signedIn = await voterClient();
    const signedInRes = await postVote(signedIn, await freshBankBattle(signedIn, models), JSON.stringify({ winner: "A" }));
    for (const res of [anonymousRes, signedInRes]) {
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("x-frame-options")).toBe("DENY");
      expect(res.headers.get("referrer-policy")).toBe("same-origin");
    }
    const [a, b] = [await anonymousRes.json(), await signedInRes.json()] as Record<string, unknown>[];
    expect(Object.keys(a!).sort()).toEqual(Object.keys(b!).sort());
    expect(Object.keys(a!.reveal as object).sort()).toEqual(["A", "B"]);
  });

  it("bad input gets the same typed errors on both paths and stores nothing", async () => {
    const anonymous = new Client();
    const anonymousBattle = await freshBankBattle(anonymous, models);
    const signedIn = await voterClient();
    const signedInBattle = await freshBankBattle(signedIn, models);
    const cases: { body: string; status: number; code: string; field?: string }[] = [
      { body: "{not json", status: 400, code: "bad_request:input" },
      { body: JSON.stringify({ winner: "C" }), status: 400, code: "bad_request:input", field: "winner" },
      { body: JSON.stringify({ winner: "A", reason: "x".repeat(281) }), status: 400, code: "bad_request:input", field: "reason" },
    ];
    for (const c of cases) {
      const results = [await postVote(anonymous, anonymousBattle, c.body), await postVote(signedIn, signedInBattle, c.body)];
      const bodies = await Promise.all(results.map(async (r) => ({ status: r.status, ...((await r.json()) as { error: { code: string; field?: string; message: string } }) })));
      for (const b of bodies) {
        expect(b.status).toBe(c.status);
        expect(b.error.code).toBe(c.code);
        expect(b.error.field).toBe(c.field);
      }
      expect(bodies[0]!.error.message).toBe(bodies[1]!.error.message);
    }
    expect(await db.vote.count({ where: { battleId: { in: [anonymousBattle, signedInBattle] } } })).toBe(0);
  });

  it("refuses an oversized body with a clear 400 and keeps the connection usable", async () => {
    const voter = new Client();
    const id = await freshBankBattle(voter, models);
    const res = await postVote(voter, id, JSON.stringify({ winner: "A", reason: "x".repeat(20_000) }));
    expect(res.status).toBe(400);
    // Said in the reader's language (none chosen here: the arena's), by its catalogue key.
    expect(((await res.json()) as { error: { message: string; key: string; values: unknown } }).error).toMatchObject({ key: "bodyTooLarge", values: { n: 8192 }, message: "请求体不能超过 8192 字节。" });
    const retry = await postVote(voter, id, JSON.stringify({ winner: "A" }));
    expect(retry.status).toBe(200);
  });

  it("a vote without the battle's voter cookie is 403 on the fast path, a forged cookie too", async () => {
    const owner = new Client();
    const id = await freshBankBattle(owner, models);
    expect((await postVote(new Client(), id, JSON.stringify({ winner: "A" }))).status).toBe(403);
    const forged = owner.cookieHeader().replace(/leitai_voter=([^.;]+)\.[^;]+/, "leitai_voter=$1.forged");
    const res = await fetch(new URL(`/api/battles/${id}/vote`, owner.baseUrl), {
      method: "POST", headers: { "content-type": "application/json", cookie: forged }, body: JSON.stringify({ winner: "A" }),
    });
    expect(res.status).toBe(403);
    expect(await db.vote.count({ where: { battleId: id } })).toBe(0);
  });

  it("a client cannot choose the IP its votes are counted under (X-Forwarded-For is replaced)", async () => {
    const voter = new Client();
    const plain = await freshBankBattle(voter, models);
    const spoofedBattle = await freshBankBattle(voter, models, { "x-forwarded-for": "203.0.113.7" });
    expect((await postVote(voter, plain, JSON.stringify({ winner: "A" }))).status).toBe(200);
    expect((await postVote(voter, spoofedBattle, JSON.stringify({ winner: "A" }), { "x-forwarded-for": "203.0.113.7", "x-real-ip": "203.0.113.8" })).status).toBe(200);
    const votes = await db.vote.findMany({ where: { battleId: { in: [plain, spoofedBattle] } } });
    const battles = await db.battle.findMany({ where: { id: { in: [plain, spoofedBattle] } } });
    const hashes = new Set([...votes, ...battles].map((row) => row.ipHash));
    expect(hashes.size).toBe(1); // battle creation (Next.js) and vote (fast path) agree, spoofed or not
    expect(hashes.has(hashIp("203.0.113.7"))).toBe(false);
    expect(hashes.has(hashIp("203.0.113.8"))).toBe(false);
  });
});

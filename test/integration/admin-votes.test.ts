import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import type { Client } from "./support/http";
import { adminClient } from "./support/users";

// Moderation: invalidate / restore by id and by filter, with audit entries; the anomaly test
// flags a voter who always contradicts the crowd.

const run = randomBytes(4).toString("hex");
let admin: Client;
let models: { id: string }[];

async function post(path: string, body: unknown) {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are checked field by field
  return admin.json<Record<string, any>>(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
}

async function vote(voterKey: string, ipHash: string, a: string, b: string, winner: "A" | "B") {
  const battle = await db.battle.create({ data: { mode: "bank", modelAId: a, modelBId: b, voterKey, ipHash, status: "voted" } });
  return db.vote.create({ data: { battleId: battle.id, winner, voterKey, ipHash, modelAId: a, modelBId: b } });
}

beforeAll(async () => {
  admin = await adminClient();
  models = await Promise.all([0, 1].map((i) =>
    db.model.create({ data: { slug: `vote-${run}-${i}`, displayName: `Vote ${i}`, kind: "openai", status: "disabled", engine: { baseUrl: "http://127.0.0.1:9/v1", remoteModel: "m" } } })));
  const [strong, weak] = [models[0]!.id, models[1]!.id];
  // 20 honest voters prefer the strong model 9 times in 10; one voter always picks the weak one.
  for (let v = 0; v < 20; v++) {
    for (let i = 0; i < 5; i++) await vote(`honest-${run}-${v}`, `ip-${run}-${v}`, strong, weak, (v + i) % 10 === 0 ? "B" : "A");
  }
  for (let i = 0; i < 8; i++) await vote(`cheat-${run}`, `ip-${run}-cheat`, i % 2 ? strong : weak, i % 2 ? weak : strong, i % 2 ? "B" : "A");
});

// Other suites compute ratings on this database: take these votes away again (votes cascade).
afterAll(async () => {
  await db.battle.deleteMany({ where: { modelAId: { in: models.map((m) => m.id) } } });
});

describe("vote moderation", () => {
  it("flags the contrarian voter", async () => {
    const { body } = await admin.json<{ voters: { voterKey: string; pValue: number }[] }>("/api/admin/votes/flagged");
    const keys = body.voters.map((v) => v.voterKey);
    expect(keys).toContain(`cheat-${run}`);
    expect(keys.filter((k) => k.startsWith(`honest-${run}`)).length).toBeLessThanOrEqual(2);
  });

  it("refuses an unnarrowed filter and an invalidation without a reason", async () => {
    expect((await post("/api/admin/votes/moderate", { action: "invalidate", reason: "x", filter: {} })).status).toBe(400);
    const noReason = await post("/api/admin/votes/moderate", { action: "invalidate", filter: { voterKey: `cheat-${run}` } });
    expect(noReason.status).toBe(400);
    expect(noReason.body.error.field).toBe("reason");
  });

  it("invalidates a voter's votes by filter and restores one by id, with audit entries", async () => {
    const res = await post("/api/admin/votes/moderate", { action: "invalidate", reason: "contrarian", filter: { voterKey: `cheat-${run}` } });
    expect(res.body).toEqual({ count: 8 });
    expect(await db.vote.count({ where: { voterKey: `cheat-${run}`, valid: false, invalidReason: "contrarian" } })).toBe(8);
    const list = await admin.json<{ total: number }>(`/api/admin/votes?voterKey=cheat-${run}&valid=false`);
    expect(list.body.total).toBe(8);

    const one = await db.vote.findFirstOrThrow({ where: { voterKey: `cheat-${run}` } });
    expect((await post("/api/admin/votes/moderate", { action: "restore", ids: [one.id] })).body).toEqual({ count: 1 });
    expect((await db.vote.findUniqueOrThrow({ where: { id: one.id } })).valid).toBe(true);

    const audit = await db.auditLog.findMany({ where: { targetType: "vote", action: { in: ["vote.invalidate", "vote.restore"] } }, orderBy: { createdAt: "desc" }, take: 2 });
    expect(audit.map((a) => a.action)).toEqual(["vote.restore", "vote.invalidate"]);
    expect(audit[1]!.after).toMatchObject({ count: 8, reason: "contrarian" });
  });

  it("invalidates by IP hash within a time window", async () => {
    const from = new Date(Date.now() - 60 * 60 * 1000).toISOString();
    const res = await post("/api/admin/votes/moderate", { action: "invalidate", reason: "ip", filter: { ipHash: `ip-${run}-3`, from } });
    expect(res.body).toEqual({ count: 5 });
    const none = await post("/api/admin/votes/moderate", { action: "invalidate", reason: "ip", filter: { ipHash: `ip-${run}-4`, to: from } });
    expect(none.body).toEqual({ count: 0 });
  });

  it("enqueues a ratings recompute", async () => {
    const res = await post("/api/admin/ratings", {});
    expect(res.status).toBe(201);
    expect(res.body.jobId).toBeTruthy();
    const status = await admin.json<{ jobState: string }>(`/api/admin/ratings?jobId=${res.body.jobId}`);
    expect(status.status).toBe(200);
    expect(typeof status.body.jobState).toBe("string");
  });
});

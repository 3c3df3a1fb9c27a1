import { beforeAll, describe, expect, it } from "vitest";
import { enforceRateLimit } from "@/lib/arena/rate-limit";
import { computeAndStoreRatingRun } from "@/lib/arena/ratings-job";
import { castVote } from "@/lib/arena/votes";
import { db } from "@/lib/db";
import { answeredQuestion, bankBattle, freshBankBattle, isolatedModels, uniq } from "./support/arena";
import { Client } from "./support/http";

function vote(client: Client, battleId: string, winner: string, reason?: string) {
  return client.json<{ valid: boolean; rated: boolean; reveal: Record<string, { slug: string }>; error?: { code: string } }>(
    `/api/battles/${battleId}/vote`,
    { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ winner, reason }) },
  );
}

describe("voting rules", () => {
  let models: Awaited<ReturnType<typeof isolatedModels>>;

  beforeAll(async () => {
    models = await isolatedModels(2);
  });

  it("creates a bank battle that reveals nothing before the vote", async () => {
    const voter = new Client();
    const id = await freshBankBattle(voter, models);
    const res = await voter.fetch(`/api/battles/${id}`);
    const raw = await res.text();
    for (const m of models) {
      expect(raw).not.toContain(m.slug);
      expect(raw).not.toContain(m.id);
      expect(raw).not.toContain(m.displayName);
    }
    expect(JSON.parse(raw)).toMatchObject({ complete: true, reveal: null, vote: null });
  });

  it("accepts one vote, reveals both models, and the ratings run moves the online Elo", async () => {
    const voter = new Client();
    const id = await freshBankBattle(voter, models);
    const before = await db.model.findMany({ where: { id: { in: models.map((m) => m.id) } } });
    const { status, body } = await vote(voter, id, "A", "clearer");
    expect(status).toBe(200);
    expect(body.valid).toBe(true);
    expect(new Set([body.reveal.A!.slug, body.reveal.B!.slug])).toEqual(new Set(models.map((m) => m.slug)));
    const battle = await db.battle.findUniqueOrThrow({ where: { id } });
    // The vote itself locks no model row; the (debounced) ratings run applies it.
    await computeAndStoreRatingRun({ bootstrapRounds: 0 });
    const after = await db.model.findMany({ where: { id: { in: models.map((m) => m.id) } } });
    const delta = (modelId: string) => after.find((m) => m.id === modelId)!.elo - before.find((m) => m.id === modelId)!.elo;
    // Equal ratings, K = 4: the winner gains 2, the loser loses 2 (up to other tests' votes, none here).
    expect(delta(battle.modelAId)).toBeCloseTo(2, 6);
    expect(delta(battle.modelBId)).toBeCloseTo(-2, 6);
  });

  it("a retry of the same vote is idempotent; a different second vote is 409", async () => {
    const voter = new Client();
    const id = await freshBankBattle(voter, models);
    expect((await vote(voter, id, "tie")).status).toBe(200);
    const again = await vote(voter, id, "tie");
    expect(again.status).toBe(200);
    expect(again.body.reveal).toBeTruthy();
    const other = await vote(voter, id, "B");
    expect(other.status).toBe(409);
    expect(await db.vote.count({ where: { battleId: id } })).toBe(1);
  });

  it("concurrent duplicate votes store exactly one vote", async () => {
    const voter = new Client();
    const id = await freshBankBattle(voter, models);
    const results = await Promise.all(Array.from({ length: 8 }, () => vote(voter, id, "both_bad")));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(await db.vote.count({ where: { battleId: id } })).toBe(1);
  });

  it("only the battle's own voter may vote (403)", async () => {
    const owner = new Client();
    const id = await freshBankBattle(owner, models);
    expect((await vote(new Client(), id, "A")).status).toBe(403);
    const stranger = new Client();
    await freshBankBattle(stranger, models); // has a voter cookie of its own now
    expect((await vote(stranger, id, "A")).status).toBe(403);
    expect(await db.vote.count({ where: { battleId: id } })).toBe(0);
  });

  it("refuses a vote before both answers are complete (409)", async () => {
    const voter = new Client();
    const id = await freshBankBattle(voter, models);
    const link = await db.battleGeneration.findFirstOrThrow({ where: { battleId: id, side: "B" } });
    const original = await db.generation.findUniqueOrThrow({ where: { id: link.generationId } });
    const pending = await db.generation.create({
      data: { modelId: original.modelId, purpose: "live", status: "running", messages: original.messages ?? [] },
    });
    await db.battleGeneration.update({ where: { battleId_side_turn: { battleId: id, side: "B", turn: 0 } }, data: { generationId: pending.id } });
    const res = await vote(voter, id, "A");
    expect(res.status).toBe(409);
    expect(res.body.error?.code).toBe("conflict:vote");
  });

  it("rate-limits a voter with 429 and a retry time", async () => {
    const voter = new Client();
    const id = await freshBankBattle(voter, models);
    const limit = Number(process.env.LEITAI_VOTE_LIMIT_PER_VOTER ?? 20);
    // The limit counts in fixed windows: all these votes must fall in one.
    const windowMs = Number(process.env.LEITAI_VOTE_LIMIT_WINDOW_S ?? 60) * 1000;
    const leftMs = windowMs - (Date.now() % windowMs);
    if (leftMs < 20_000) await new Promise((r) => setTimeout(r, leftMs + 100));
    for (let i = 0; i < limit; i++) expect((await vote(voter, id, "A")).status).toBe(200);
    const res = await voter.fetch(`/api/battles/${id}/vote`, {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ winner: "A" }),
    });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  it("limits per IP across voters (library level, real Redis)", async () => {
    const ip = uniq("ip");
    const call = (voter: string) => enforceRateLimit({
      surface: "vote-test", windowS: 3600, keys: [{ key: `voter:${voter}`, limit: 100 }, { key: `ip:${ip}`, limit: 3 }],
    });
    await call("a");
    await call("b");
    await call("c");
    await expect(call("d")).rejects.toMatchObject({ status: 429 });
  });

  it("stores a vote whose answer names its own model, marked invalid and not rated in Elo", async () => {
    const named = await isolatedModels(2, ["Qilin-7B", "Pixiu-7B"]);
    await answeredQuestion(named, ["我是 Qilin-7B，很高兴为你服务。", "A plain answer."]);
    const voter = new Client();
    const id = await bankBattle(voter);
    const before = await db.model.findMany({ where: { id: { in: named.map((m) => m.id) } } });
    const { status, body } = await vote(voter, id, "A");
    expect(status).toBe(200);
    expect(body.valid).toBe(false);
    const stored = await db.vote.findUniqueOrThrow({ where: { battleId: id } });
    expect(stored.valid).toBe(false);
    expect(stored.invalidReason).toContain("qilin-7b");
    await computeAndStoreRatingRun({ bootstrapRounds: 0 });
    const after = await db.model.findMany({ where: { id: { in: named.map((m) => m.id) } } });
    expect(after.map((m) => m.elo).sort()).toEqual(before.map((m) => m.elo).sort());
    models = named;
  });

  it("concurrent votes on overlapping model pairs are all stored, and the recomputed Elo is zero-sum", async () => {
    const trio = await isolatedModels(3);
    const question = await answeredQuestion(trio);
    const answers = await db.generation.findMany({ where: { questionId: question.id } });
    const answerOf = (modelId: string) => answers.find((a) => a.modelId === modelId)!.id;
    const pairs = [[0, 1], [1, 0], [1, 2], [2, 1], [0, 2], [2, 0]] as const;
    const battles = Array.from({ length: 2000 }, (_, i) => ({ id: uniq("concurrent"), voter: `anon:${uniq("v")}`, pair: pairs[i % 6]! }));
    const modelOf = (b: (typeof battles)[number], side: 0 | 1) => trio[b.pair[side]]!.id;
    await db.battle.createMany({
      data: battles.map((b) => ({ id: b.id, mode: "bank" as const, questionId: question.id, modelAId: modelOf(b, 0), modelBId: modelOf(b, 1), voterKey: b.voter, ipHash: "test", status: "ready" as const })),
    });
    await db.battleGeneration.createMany({
      data: battles.flatMap((b) => [
        { battleId: b.id, side: "A" as const, turn: 0, generationId: answerOf(modelOf(b, 0)) },
        { battleId: b.id, side: "B" as const, turn: 0, generationId: answerOf(modelOf(b, 1)) },
      ]),
    });
    let next = 0;
    const winners = ["A", "B", "tie", "both_bad"] as const;
    await Promise.all(Array.from({ length: 32 }, async () => {
      while (next < battles.length) {
        const i = next++;
        const b = battles[i]!;
        await castVote({ battleId: b.id, voter: { voterKey: b.voter, userId: null, ipHash: `ip-${i}` }, winner: winners[i % 4]! });
      }
    }));
    expect(await db.vote.count({ where: { battleId: { in: battles.map((b) => b.id) } } })).toBe(2000);
    await computeAndStoreRatingRun({ bootstrapRounds: 0 });
    const after = await db.model.findMany({ where: { id: { in: trio.map((m) => m.id) } } });
    expect(after.reduce((sum, m) => sum + m.elo, 0)).toBeCloseTo(3000, 6);
  });

  it("says so, instead of failing, when fewer than two models are eligible", async () => {
    await isolatedModels(1);
    const ask = (language: Record<string, string>) => new Client().json<{ error: { code: string; message: string; key?: string } }>("/api/battles", {
      method: "POST", headers: { "content-type": "application/json", ...language }, body: JSON.stringify({ mode: "bank" }),
    });
    // Without a language cookie the browser's Accept-Language decides; Node's fetch asks for any (*): the default, Chinese.
    for (const [language, words] of [[{}, /需要两个/], [{ "accept-language": "en-GB,en;q=0.9" }, /two/]] as const) {
      const { status, body } = await ask(language);
      expect(status).toBe(409);
      expect(body.error).toMatchObject({ code: "conflict:matchmaking", key: "oneModel" });
      expect(body.error.message).toMatch(words);
    }
  });

  it("rejects an over-long live prompt with a clear 400 naming the field", async () => {
    const { status, body } = await new Client().json<{ error: { field: string; message: string } }>("/api/battles", {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ mode: "live", prompt: "x".repeat(100_000) }),
    });
    expect(status).toBe(400);
    expect(body.error.field).toBe("prompt");
  });
});

import type { Model } from "@prisma/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ArenaSettingsInput } from "@/lib/arena/arena-settings";
import { abandonBattle } from "@/lib/arena/battles";
import { exportBattles } from "@/lib/arena/battle-export";
import type { BattleView } from "@/lib/arena/battle-view";
import { db } from "@/lib/db";
import { getModelHealth } from "@/lib/pipeline/health";
import type { GenerationWorkers } from "@/workers/pool";
import { createModel, releasePipeline, startWorkers, waitFor } from "./pipeline/helpers";
import { uniq } from "./support/arena";
import { applyArenaSettings, freshWindowS, speak } from "./support/arena-settings";
import { FakeEngine } from "./support/fake-engine";
import { Client } from "./support/http";
import { adminClient, voterClient } from "./support/users";

// Live generation spends GPU time, so the admin's settings limit it: live battles and follow-up
// turns per voter and per IP (429 with Retry-After, in the voter's language), live answers in
// flight per model (a model at its cap is not drawn; none left is a 503; named battles counted
// apart), prompt length per turn
// and per battle (400 naming the field). And a live prompt is on the public pages only while the
// admin publishes live prompts. Real site, real worker pool, a fake OpenAI-compatible engine.
// Every test client is 127.0.0.1: each test sets the limits it needs on a window of its own.

type ErrorBody = { error?: { code: string; message: string; field?: string } };
const json = { "content-type": "application/json" };

const startLive = (voter: Client, prompt = uniq("Name a river")) =>
  voter.fetch("/api/battles", { method: "POST", headers: json, body: JSON.stringify({ mode: "live", prompt }) });
const turn = (voter: Client, id: string, prompt = uniq("and another?")) =>
  voter.fetch(`/api/battles/${id}/turns`, { method: "POST", headers: json, body: JSON.stringify({ prompt }) });
const view = async (voter: Client, id: string) => (await voter.json<BattleView>(`/api/battles/${id}`)).body;
const complete = (voter: Client, id: string) =>
  waitFor(async () => (await view(voter, id)).complete, 20_000, `battle ${id}'s answers`);

async function created(res: Response): Promise<string> {
  const body = (await res.json()) as { id: string } & ErrorBody;
  expect(res.status, JSON.stringify(body)).toBe(201);
  return body.id;
}

/** A live battle whose answers are complete. */
async function answeredBattle(voter: Client, prompt?: string): Promise<string> {
  const id = await created(await startLive(voter, prompt));
  await complete(voter, id);
  return id;
}

async function expectRefused(res: Response, status: number, code: string): Promise<{ message: string; field?: string; retryAfter: number }> {
  const body = (await res.json()) as ErrorBody;
  expect(res.status, JSON.stringify(body)).toBe(status);
  expect(body.error?.code).toBe(code);
  return { message: body.error!.message, field: body.error!.field, retryAfter: Number(res.headers.get("retry-after")) };
}

/**
 * Leaving a battle cancels its answers: a queued one at once, a running one once its worker
 * hears of it. Until then it still counts against its model's cap.
 */
async function answersStopped(battleId: string) {
  await waitFor(async () => (await db.generation.count({
    where: { battles: { some: { battleId } }, status: { in: ["queued", "running"] } },
  })) === 0 || null, 30_000, "the left battle's answers to stop");
}

describe("limits on live generation", () => {
  let admin: Client;
  let engine: FakeEngine;
  let pool: GenerationWorkers;
  let fastA: Model, fastB: Model, slowA: Model, slowB: Model;
  let all: Model[];
  let original: ArenaSettingsInput;
  const voter = () => new Client();

  /** Only these models are drawn. */
  async function drawOnly(models: Model[]) {
    await db.model.updateMany({ where: { id: { in: all.map((m) => m.id) } }, data: { battleWeight: 0 } });
    await db.model.updateMany({ where: { id: { in: models.map((m) => m.id) } }, data: { battleWeight: 1 } });
  }

  /** Limits high enough not to matter, on a window of their own, then the test's own. */
  const settings = (patch: Partial<ArenaSettingsInput>) => applyArenaSettings(admin, {
    liveBattlesPerVoter: 1000, liveBattlesPerIp: 1000, turnsPerVoter: 1000, turnsPerIp: 1000, signedInFactor: 1,
    liveInFlightPerModel: 100, conversationMaxChars: 16000, publishLivePrompts: false,
    limitWindowS: freshWindowS(), ...patch,
  });

  beforeAll(async () => {
    admin = await adminClient();
    engine = await new FakeEngine().start();
    await db.model.updateMany({ where: { status: "active" }, data: { status: "disabled" } });
    const openai = (remoteModel: string) => createModel({ kind: "openai", engine: { baseUrl: engine.baseUrl, remoteModel } });
    fastA = await openai("tokens:2:0");
    fastB = await openai("tokens:3:0");
    slowA = await openai("stall-first"); // never answers: its live answer stays in flight
    slowB = await openai("stall-first");
    all = [fastA, fastB, slowA, slowB];
    pool = await startWorkers(all, { timeouts: { connectMs: 2_000, firstTokenMs: 120_000, idleMs: 120_000 } });
    await waitFor(async () => {
      const health = await getModelHealth(all.map((m) => m.id));
      return all.every((m) => health.get(m.id)?.healthy);
    }, 20_000, "every test model to be healthy");
    original = await settings({});
  });

  afterAll(async () => {
    // Open battles are left, so the hanging answers are cancelled before the workers stop.
    const open = await db.battle.findMany({
      where: { status: { in: ["pending", "ready"] }, OR: [{ modelAId: { in: (all ?? []).map((m) => m.id) } }, { modelBId: { in: (all ?? []).map((m) => m.id) } }] },
      select: { id: true, voterKey: true, ipHash: true },
    });
    for (const b of open) await abandonBattle({ battleId: b.id, voter: { voterKey: b.voterKey, userId: null, ipHash: b.ipHash } }).catch(() => undefined);
    if (admin && original) await applyArenaSettings(admin, original);
    await pool?.close(2_000);
    await engine?.stop();
    const ids = (all ?? []).map((m) => m.id);
    const battles = await db.battle.findMany({ where: { OR: [{ modelAId: { in: ids } }, { modelBId: { in: ids } }] }, select: { id: true } });
    await db.vote.deleteMany({ where: { battleId: { in: battles.map((b) => b.id) } } });
    await db.battle.deleteMany({ where: { id: { in: battles.map((b) => b.id) } } });
    await releasePipeline();
  });

  it("a voter past their live battles gets a 429 with Retry-After, in their language; another voter is not held back", async () => {
    await drawOnly([fastA, fastB]);
    await settings({ liveBattlesPerVoter: 2 });
    const v = voter();
    await created(await startLive(v));
    await created(await startLive(v));
    const zh = await expectRefused(await startLive(v), 429, "rate_limit:live_battle");
    expect(zh.retryAfter).toBeGreaterThan(0);
    expect(zh.message).toMatch(/自由提问太频繁.*秒后再试/);
    const en = await expectRefused(await startLive(speak(v, "en")), 429, "rate_limit:live_battle");
    expect(en.message).toMatch(/Too many live battles.*try again in \d+ s/);
    await created(await startLive(voter()));
  });

  it("voters sharing an IP are held to the IP's live battles", async () => {
    await drawOnly([fastA, fastB]);
    await settings({ liveBattlesPerIp: 3 });
    for (let i = 0; i < 3; i++) await created(await startLive(voter()));
    const refused = await expectRefused(await startLive(voter()), 429, "rate_limit:live_battle");
    expect(refused.retryAfter).toBeGreaterThan(0);
  });

  it("a signed-in voter gets the limits times signedInFactor", async () => {
    await drawOnly([fastA, fastB]);
    await settings({ liveBattlesPerVoter: 1, signedInFactor: 3 });
    const anonymous = voter();
    await created(await startLive(anonymous));
    await expectRefused(await startLive(anonymous), 429, "rate_limit:live_battle");
    const member = await voterClient();
    for (let i = 0; i < 3; i++) await created(await startLive(member));
    await expectRefused(await startLive(member), 429, "rate_limit:live_battle");
  });

  it("a voter past their follow-up turns gets a 429 with Retry-After", async () => {
    await drawOnly([fastA, fastB]);
    await settings({ turnsPerVoter: 2 });
    const v = voter();
    const id = await answeredBattle(v);
    for (let i = 0; i < 2; i++) {
      expect((await turn(v, id)).status).toBe(201);
      await complete(v, id);
    }
    const zh = await expectRefused(await turn(v, id), 429, "rate_limit:turn");
    expect(zh.retryAfter).toBeGreaterThan(0);
    expect(zh.message).toMatch(/追问太频繁/);
    expect((await expectRefused(await turn(speak(v, "en"), id), 429, "rate_limit:turn")).message).toMatch(/Too many follow-up questions/);
    // The refused turns started nothing.
    expect((await view(v, id)).turns).toHaveLength(3);
  });

  it("voters sharing an IP are held to the IP's follow-up turns", async () => {
    await drawOnly([fastA, fastB]);
    await settings({ turnsPerIp: 2 });
    const battles: [Client, string][] = [];
    for (let i = 0; i < 3; i++) {
      const v = voter();
      battles.push([v, await answeredBattle(v)]);
    }
    expect((await turn(...battles[0]!)).status).toBe(201);
    expect((await turn(...battles[1]!)).status).toBe(201);
    await expectRefused(await turn(...battles[2]!), 429, "rate_limit:turn");
  });

  it("a model at its cap of live answers in flight is not drawn; with none left the answer is a 503 with Retry-After, which costs the voter no battle", async () => {
    await drawOnly([slowA, slowB]);
    await settings({ liveInFlightPerModel: 1, liveBattlesPerVoter: 2 });
    const first = voter();
    const hanging = await created(await startLive(first));
    const v = voter();
    for (let i = 0; i < 3; i++) {
      const busy = await expectRefused(await startLive(v), 503, "unavailable:capacity");
      expect(busy.retryAfter).toBeGreaterThan(0);
      expect(busy.message).toMatch(/模型都在忙/);
    }

    // With room elsewhere, only the models below their cap are drawn. The refusals above were
    // not counted: this voter still has both of their live battles.
    await drawOnly([slowA, slowB, fastA, fastB]);
    for (const who of [v, v, voter(), voter()]) {
      const id = await answeredBattle(who);
      const battle = await db.battle.findUniqueOrThrow({ where: { id } });
      expect([battle.modelAId, battle.modelBId].sort()).toEqual([fastA.id, fastB.id].sort());
    }
    await expectRefused(await startLive(v), 429, "rate_limit:live_battle");

    // Leaving the battle stops its answers, and the slow models may be drawn again.
    expect((await first.fetch(`/api/battles/${hanging}/abandon`, { method: "POST" })).status).toBe(200);
    await answersStopped(hanging);
    await drawOnly([slowA, slowB]);
    const next = voter();
    const again = await created(await startLive(next));
    // Left too, so the slow models' drawn lane is empty for the next test.
    expect((await next.fetch(`/api/battles/${again}/abandon`, { method: "POST" })).status).toBe(200);
  });

  it("named battles count against the cap apart from drawn ones: a voter's picks cannot keep a model out of the rated draw", async () => {
    await settings({ liveInFlightPerModel: 1 });
    const named = (a: Model, b: Model) => voter().fetch("/api/battles", {
      method: "POST", headers: json, body: JSON.stringify({ mode: "named", modelA: a.slug, modelB: b.slug, prompt: uniq("Pick me") }),
    });
    // A named battle fills both slow models' named lane: another named battle on either waits.
    const picked = await created(await named(slowA, slowB));
    await expectRefused(await named(slowA, fastA), 503, "unavailable:capacity");
    // The rated draw does not see it: the slow pair is drawn as before.
    await drawOnly([slowA, slowB]);
    const drawn = await created(await startLive(voter()));
    expect(await db.battle.findUniqueOrThrow({ where: { id: drawn }, select: { mode: true } })).toMatchObject({ mode: "live" });
    await expectRefused(await startLive(voter()), 503, "unavailable:capacity");
    // And the drawn battle now filling the slow models leaves their named lane as it was: once
    // the named battle is left, a new one on a slow model starts.
    const b = await db.battle.findUniqueOrThrow({ where: { id: picked }, select: { voterKey: true, ipHash: true } });
    await abandonBattle({ battleId: picked, voter: { voterKey: b.voterKey, userId: null, ipHash: b.ipHash } });
    await answersStopped(picked);
    await created(await named(slowA, fastA));
  });

  it("a prompt over the length per turn or per battle is a 400 naming the field", async () => {
    await drawOnly([fastA, fastB]);
    await settings({ turnMaxChars: 50, conversationMaxChars: 80 });
    const v = voter();
    const long = await expectRefused(await startLive(v, "长".repeat(51)), 400, "bad_request:prompt");
    expect(long.field).toBe("prompt");
    expect(long.message).toContain("50");
    const id = await answeredBattle(v, "长".repeat(50));
    const tooLongTurn = await expectRefused(await turn(v, id, "x".repeat(51)), 400, "bad_request:prompt");
    expect(tooLongTurn.field).toBe("prompt");
    const overBattle = await expectRefused(await turn(speak(v, "en"), id, "x".repeat(31)), 400, "bad_request:conversation");
    expect(overBattle.field).toBe("prompt");
    expect(overBattle.message).toMatch(/at most 80 characters/);
    expect((await turn(v, id, "x".repeat(30))).status).toBe(201);
  });

  it("a live prompt is on model pages, in head to head and in its battle view for others only while the admin publishes live prompts; the export says which", async () => {
    await drawOnly([fastA, fastB]);
    await settings({ publishLivePrompts: false });
    const v = voter();
    const prompt = uniq("Which bird sings at dawn");
    const id = await answeredBattle(v, prompt);
    expect((await v.fetch(`/api/battles/${id}/vote`, { method: "POST", headers: json, body: JSON.stringify({ winner: "A" }) })).status).toBe(200);
    const pages = [`/models/${fastA.slug}`, `/models/${fastA.slug}/vs/${fastB.slug}`];
    // The model's page, head to head, and the battle itself read by someone else.
    const shown = async () => [
      ...(await Promise.all(pages.map(async (p) => (await (await new Client().fetch(p)).text()).includes(prompt)))),
      (await new Client().fetch(`/api/battles/${id}`)).status === 200,
    ];
    const exported = async () => {
      for await (const row of exportBattles()) if (row.question_id === id) return row;
      return null;
    };

    expect(await shown()).toEqual([false, false, false]);
    expect((await exported())?.published).toBe(false);

    await settings({ publishLivePrompts: true });
    await waitFor(async () => (await shown()).every(Boolean), 15_000, "the live prompt on the public pages");
    expect((await exported())?.published).toBe(true);

    await settings({ publishLivePrompts: false });
    await waitFor(async () => (await shown()).every((s) => !s), 15_000, "the live prompt to leave the public pages");
    // The voter still has their own battle.
    expect((await view(v, id)).turns[0]!.prompt).toBe(prompt);
  });
});

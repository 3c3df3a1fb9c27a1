import type { ChildProcess } from "node:child_process";
import type { Model } from "@prisma/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BattleView } from "@/lib/arena/battle-view";
import { computeAndStoreRatingRun } from "@/lib/arena/ratings-job";
import { db } from "@/lib/db";
import { getModelHealth } from "@/lib/pipeline/health";
import type { Leaderboard } from "@/lib/ratings";
import type { GenerationWorkers } from "@/workers/pool";
import { createModel, releasePipeline, startWorkers, waitFor } from "./pipeline/helpers";
import { uniq } from "./support/arena";
import { FakeEngine } from "./support/fake-engine";
import { Client } from "./support/http";
import { freePort, startSite } from "./support/processes";

// Acceptance (f) of the pipeline issue: a side that fails for good (or whose stream stalls) is
// no dead end. The voter sees why, may re-roll the side (then vote) or take a new battle; the
// abandoned battle refuses votes and never reaches the ratings. Real site, real worker pool,
// a fake OpenAI-compatible engine told to fail, stall or crawl.

type Side = "A" | "B";
type SseEvent = { event: string; id?: string; data: { type?: string; text?: string; reason?: string; error?: string } };

// Wide margins on both sides of it: a loaded CI machine delays tokens and streams by seconds.
const STALL_MS = 3_000;
const json = { "content-type": "application/json" };

/** Reads a whole SSE response (the server closes it after the last event). */
async function readSse(res: Response): Promise<SseEvent[]> {
  expect(res.status).toBe(200);
  const events: SseEvent[] = [];
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const fields = Object.fromEntries(block.split("\n").filter((l) => !l.startsWith(":")).map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 1).trim()]));
      if (fields.data === undefined) continue;
      events.push({ event: fields.event ?? "message", id: fields.id, data: JSON.parse(fields.data) });
    }
  }
  return events;
}

function streamedText(events: SseEvent[]): string {
  let text = "";
  for (const e of events) {
    if (e.data.type === "reset") text = "";
    if (e.data.type === "delta") text += e.data.text ?? "";
  }
  return text;
}

async function liveBattle(voter: Client, prompt: string): Promise<string> {
  const { status, body } = await voter.json<{ id: string }>("/api/battles", { method: "POST", headers: json, body: JSON.stringify({ mode: "live", prompt }) });
  expect(status).toBe(201);
  return body.id;
}

const view = async (voter: Client, id: string) => (await voter.json<BattleView>(`/api/battles/${id}`)).body;
const vote = (voter: Client, id: string, winner = "A") =>
  voter.json<{ reveal: Record<Side, { slug: string }>; error?: { code: string; message: string } }>(`/api/battles/${id}/vote`, {
    method: "POST", headers: json, body: JSON.stringify({ winner }),
  });
const reroll = (voter: Client, id: string, side: Side, turn = 0) =>
  voter.json<Record<string, unknown>>(`/api/battles/${id}/reroll`, { method: "POST", headers: json, body: JSON.stringify({ side, turn }) });

/** The side a model answers, read from the database (the voter cannot know it). */
async function sideOf(battleId: string, modelId: string): Promise<Side> {
  const battle = await db.battle.findUniqueOrThrow({ where: { id: battleId } });
  return battle.modelAId === modelId ? "A" : "B";
}

describe("a battle side that fails for good or stalls", () => {
  let engine: FakeEngine;
  let pool: GenerationWorkers;
  let good: Model, spare: Model, broken: Model, hanging: Model, crawling: Model, steady: Model, lonely: Model, lonelySpare: Model;
  let all: Model[];
  let site: ChildProcess | undefined;
  let stallSite: string;

  /** Only these models can be drawn (live matchmaking and re-rolls draw by weight). */
  async function drawOnly(models: Model[]) {
    await db.model.updateMany({ where: { id: { in: all.map((m) => m.id) } }, data: { battleWeight: 0 } });
    await db.model.updateMany({ where: { id: { in: models.map((m) => m.id) } }, data: { battleWeight: 1 } });
  }

  /** Nothing of the battle's models shows before the vote. */
  function expectBlind(raw: string) {
    for (const m of all) for (const secret of [m.id, m.slug]) expect(raw).not.toContain(secret);
    expect(raw).not.toContain(engine.baseUrl);
    expect(raw).not.toContain("max_tokens is too large"); // the engine's own error text
  }

  beforeAll(async () => {
    engine = await new FakeEngine().start();
    await db.model.updateMany({ where: { status: "active" }, data: { status: "disabled" } });
    const openai = (remoteModel: string) => createModel({ kind: "openai", engine: { baseUrl: engine.baseUrl, remoteModel } });
    good = await openai("tokens:6:0");
    spare = await openai("tokens:9:0");
    broken = await openai("reject"); // HTTP 400: not retryable, the answer fails for good at once
    hanging = await openai("stall-mid"); // two tokens, then silence (the worker's idle timeout is long)
    crawling = await openai("tokens:3:8000"); // a token every 8 s: slower than the stall time, yet it finishes
    steady = await openai("tokens:12:600"); // longer than the stall time in all, but never silent that long
    lonely = await openai("tokens:4:0");
    lonelySpare = await openai("tokens:5:0");
    all = [good, spare, broken, hanging, crawling, steady, lonely, lonelySpare];
    pool = await startWorkers(all, { timeouts: { connectMs: 2_000, firstTokenMs: 60_000, idleMs: 60_000 } });
    await waitFor(async () => {
      const health = await getModelHealth(all.map((m) => m.id));
      return all.every((m) => health.get(m.id)?.healthy);
    }, 20_000, "every test model to be healthy");
    // A site of its own with a short stall time, for the stalled-stream cases.
    const port = await freePort();
    site = await startSite(port, { LEITAI_STREAM_STALL_MS: String(STALL_MS) });
    stallSite = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    site?.kill("SIGTERM");
    await pool?.close(2_000);
    await engine?.stop();
    // This file's battles go first: their answers belong to the models releasePipeline removes.
    const ids = (all ?? []).map((m) => m.id);
    const battles = await db.battle.findMany({ where: { OR: [{ modelAId: { in: ids } }, { modelBId: { in: ids } }] }, select: { id: true } });
    await db.vote.deleteMany({ where: { battleId: { in: battles.map((b) => b.id) } } });
    await db.battle.deleteMany({ where: { id: { in: battles.map((b) => b.id) } } });
    await releasePipeline();
  });

  it("shows the failure blind, refuses the vote, and a re-roll brings a completed answer the voter can vote on", async () => {
    await drawOnly([good, broken]);
    const voter = new Client();
    const id = await liveBattle(voter, uniq("Name three rivers"));
    const failedSide = await sideOf(id, broken.id);
    const otherSide: Side = failedSide === "A" ? "B" : "A";

    const failed = await waitFor(async () => {
      const v = await view(voter, id);
      return v.stuck.length > 0 && v.turns[0]!.sides[otherSide].status === "completed" ? v : null;
    }, 20_000, "the broken side to fail for good");
    expect(failed.stuck).toEqual([failedSide]);
    expect(failed.turns[0]!.sides[failedSide]).toMatchObject({ status: "failed", error: "This answer failed to generate.", stalled: false });
    expect(failed.complete).toBe(false);
    expectBlind(JSON.stringify(failed));

    // The vote waits for two answers; a complete side cannot be re-rolled.
    const refused = await vote(voter, id);
    expect(refused.status).toBe(409);
    expect(refused.body.error?.code).toBe("conflict:vote");
    expect((await reroll(voter, id, otherSide)).status).toBe(409);
    // Only the battle's own voter may re-roll it.
    expect((await reroll(new Client(), id, failedSide)).status).toBe(403);

    // The re-roll draws a model other than the rival, and other than the one that failed.
    await drawOnly([good, broken, spare]);
    const rerolled = await reroll(voter, id, failedSide);
    expect(rerolled.status).toBe(201);
    expect(rerolled.body).toEqual({ side: failedSide, turn: 0 });

    const events = await readSse(await voter.fetch(`/api/battles/${id}/stream?side=${failedSide}&turn=0`));
    expect(events.at(-1)!.data.type).toBe("done");
    // Before the vote the end says nothing an engine measured: token counts and timings would name the model.
    expect(Object.keys(events.at(-1)!.data).sort()).toEqual(["seq", "type"]);
    expect(streamedText(events)).toBe(FakeEngine.text(9));
    const ready = await view(voter, id);
    expect(ready).toMatchObject({ complete: true, stuck: [], reveal: null });
    expect(ready.turns[0]!.sides[failedSide]).toMatchObject({ status: "completed", text: FakeEngine.text(9), error: null });
    expectBlind(JSON.stringify(ready));

    const voted = await vote(voter, id, failedSide);
    expect(voted.status).toBe(200);
    expect(voted.body.reveal[failedSide].slug).toBe(spare.slug);
    expect(voted.body.reveal[otherSide].slug).toBe(good.slug);
    // After the vote there is nothing left to re-roll.
    expect((await reroll(voter, id, failedSide)).status).toBe(409);
    const links = await db.battleGeneration.findMany({ where: { battleId: id }, include: { generation: true } });
    expect(links.map((l) => l.generation.status).sort()).toEqual(["completed", "completed"]);
  });

  it("a new battle instead leaves the old one abandoned: its vote is refused and the ratings never count it", async () => {
    await drawOnly([lonely, broken]);
    const voter = new Client();
    const id = await liveBattle(voter, uniq("Explain tides"));
    const failedSide = await sideOf(id, broken.id);
    await waitFor(async () => ((await view(voter, id)).stuck.length ? true : null), 20_000, "the broken side to fail");
    // Re-rolled to completion, so both answers are there: only the abandonment keeps it unrated.
    await drawOnly([lonely, broken, lonelySpare]);
    expect((await reroll(voter, id, failedSide)).status).toBe(201);
    await waitFor(async () => ((await view(voter, id)).complete ? true : null), 20_000, "the re-rolled side to complete");

    const left = await voter.json<{ status: string }>(`/api/battles/${id}/abandon`, { method: "POST" });
    expect(left).toEqual({ status: 200, body: { id, status: "abandoned" } });
    expect((await voter.json(`/api/battles/${id}/abandon`, { method: "POST" })).status).toBe(200); // idempotent
    const refused = await vote(voter, id);
    expect(refused.status).toBe(409);
    // Said in the arena's default language (this voter chose none), with the catalogue key the
    // battle page says it by in its own.
    expect(refused.body.error).toMatchObject({ code: "conflict:vote", key: "voteAbandoned" });
    expect(refused.body.error!.message).toMatch(/已放弃/);
    expect((await reroll(voter, id, failedSide)).status).toBe(409);
    const turn = await voter.json(`/api/battles/${id}/turns`, { method: "POST", headers: json, body: JSON.stringify({ prompt: "and more?" }) });
    expect(turn.status).toBe(409);
    expect(await view(voter, id)).toMatchObject({ status: "abandoned", stuck: [], vote: null });

    // Starting a new live battle also leaves an open one, failed side and all.
    await drawOnly([lonely, broken]);
    const second = await liveBattle(voter, uniq("Explain winds"));
    await waitFor(async () => ((await view(voter, second)).stuck.length ? true : null), 20_000, "the second battle's broken side to fail");
    await drawOnly([lonely, lonelySpare]);
    await liveBattle(voter, uniq("Explain clouds"));
    expect((await db.battle.findUniqueOrThrow({ where: { id: second } })).status).toBe("abandoned");
    expect((await vote(voter, second)).status).toBe(409);

    // The ratings: none of these battles has a vote, so none of their models is rated.
    const run = (await computeAndStoreRatingRun({ bootstrapRounds: 0 })) as unknown as { results: { leaderboard: Leaderboard } };
    expect(await db.vote.count({ where: { battleId: { in: [id, second] } } })).toBe(0);
    const rated = run.results.leaderboard.models.map((m) => m.model);
    for (const m of [lonely, lonelySpare, broken]) expect(rated).not.toContain(m.id);
  });

  it("a vote racing an abandon: exactly one of them wins, and the battle agrees with the answers", async () => {
    await drawOnly([good, spare]);
    for (let i = 0; i < 6; i++) {
      const voter = new Client();
      const id = await liveBattle(voter, uniq("Race me"));
      await waitFor(async () => ((await view(voter, id)).complete ? true : null), 20_000, "both answers");
      const [voted, left] = await Promise.all([vote(voter, id), voter.json(`/api/battles/${id}/abandon`, { method: "POST" })]);
      const battle = await db.battle.findUniqueOrThrow({ where: { id }, include: { vote: true } });
      if (voted.status === 200) {
        expect(left.status).toBe(409);
        expect(battle.status).toBe("voted");
        expect(battle.vote).not.toBeNull();
      } else {
        expect(voted.status).toBe(409);
        expect(left.status).toBe(200);
        expect(battle.status).toBe("abandoned");
        expect(battle.vote).toBeNull();
      }
    }
  });

  it("a stalled stream ends with a stalled error event; the voter re-rolls the side and votes", async () => {
    await drawOnly([steady, hanging]);
    const voter = new Client(stallSite);
    const id = await liveBattle(voter, uniq("Count to ten"));
    const stalledSide = await sideOf(id, hanging.id);
    const otherSide: Side = stalledSide === "A" ? "B" : "A";

    const [stalled, normal] = await Promise.all([
      voter.fetch(`/api/battles/${id}/stream?side=${stalledSide}&turn=0`).then(readSse),
      voter.fetch(`/api/battles/${id}/stream?side=${otherSide}&turn=0`).then(readSse),
    ]);
    // The answer that keeps moving ends normally, though it takes longer than the stall time;
    // the one that stopped ends with the stall event, which has no id (a reconnect resumes
    // after the last real message).
    expect(normal.at(-1)!.data.type).toBe("done");
    expect(streamedText(normal)).toBe(FakeEngine.text(12));
    const last = stalled.at(-1)!;
    expect(last).toMatchObject({ event: "error", id: undefined, data: { type: "error", reason: "stalled" } });
    expect(streamedText(stalled)).toBe("w0 w1 ");
    expectBlind(JSON.stringify(stalled));

    const stuck = await view(voter, id);
    expect(stuck.stuck).toEqual([stalledSide]);
    expect(stuck.turns[0]!.sides[stalledSide]).toMatchObject({ status: "running", stalled: true, error: "This answer stopped arriving." });
    expect((await vote(voter, id)).status).toBe(409);

    const oldId = (await db.battleGeneration.findUniqueOrThrow({ where: { battleId_side_turn: { battleId: id, side: stalledSide, turn: 0 } } })).generationId;
    await drawOnly([steady, hanging, spare]);
    expect((await reroll(voter, id, stalledSide)).status).toBe(201);
    const events = await readSse(await voter.fetch(`/api/battles/${id}/stream?side=${stalledSide}&turn=0`));
    expect(streamedText(events)).toBe(FakeEngine.text(9));
    // The superseded answer is stopped, not left running for nobody.
    await waitFor(async () => ((await db.generation.findUniqueOrThrow({ where: { id: oldId } })).status === "cancelled" ? true : null), 10_000, "the stalled answer to be cancelled");
    const voted = await vote(voter, id, otherSide);
    expect(voted.status).toBe(200);
    expect(voted.body.reveal[stalledSide].slug).toBe(spare.slug);
  });

  it("an answer that stalls but finishes later shows up when the battle view is reloaded", async () => {
    await drawOnly([good, crawling]);
    const voter = new Client(stallSite);
    const id = await liveBattle(voter, uniq("Spell a word"));
    const slowSide = await sideOf(id, crawling.id);
    const stalled = await readSse(await voter.fetch(`/api/battles/${id}/stream?side=${slowSide}&turn=0`));
    expect(stalled.at(-1)!.data.reason).toBe("stalled");
    expect((await view(voter, id)).stuck).toEqual([slowSide]);
    // Reloading the view later: the answer completed after all, and nothing is stuck any more.
    const recovered = await waitFor(async () => {
      const v = await view(voter, id);
      return v.complete ? v : null;
    }, 60_000, "the slow answer to complete");
    expect(recovered.stuck).toEqual([]);
    expect(recovered.turns[0]!.sides[slowSide]).toMatchObject({ status: "completed", text: FakeEngine.text(3), stalled: false, error: null });
    expect((await vote(voter, id)).status).toBe(200);
  });
});

import type { Model } from "@prisma/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ArenaSettingsInput } from "@/lib/arena/arena-settings";
import type { BattleView } from "@/lib/arena/battle-view";
import { db } from "@/lib/db";
import { getModelHealth } from "@/lib/pipeline/health";
import { questionTextHash } from "@/lib/questions";
import type { GenerationWorkers } from "@/workers/pool";
import { createModel, releasePipeline, startWorkers, waitFor } from "./pipeline/helpers";
import { uniq } from "./support/arena";
import { applyArenaSettings, freshWindowS } from "./support/arena-settings";
import { FakeEngine } from "./support/fake-engine";
import { Client } from "./support/http";
import { adminClient } from "./support/users";

// Greedy or seeded engines answer one text with one answer, so a live prompt is as cached as a
// bank question: once an address has seen the answers to a text under their models' names (a
// named battle, a vote, a published question or battle), a live battle on that text is not
// blind. Such a vote is stored and never rated. Texts match as the question bank matches them
// (case, width, spacing and trailing punctuation do not count). Real site, real workers, a fake
// OpenAI-compatible engine; every client is 127.0.0.1, as one attacker's cookies would be.

const json = { "content-type": "application/json" };
type VoteBody = { rated: boolean; valid: boolean };

describe("a live battle on a text whose answers are known is not rated", () => {
  let admin: Client;
  let engine: FakeEngine;
  let pool: GenerationWorkers;
  let models: Model[];
  let original: ArenaSettingsInput;

  async function answeredLive(voter: Client, body: Record<string, unknown>): Promise<string> {
    const res = await voter.json<{ id: string }>("/api/battles", { method: "POST", headers: json, body: JSON.stringify(body) });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const id = res.body.id;
    await waitFor(async () => (await voter.json<BattleView>(`/api/battles/${id}`)).body.complete, 20_000, `battle ${id}'s answers`);
    return id;
  }
  const live = (voter: Client, prompt: string) => answeredLive(voter, { mode: "live", prompt });
  async function vote(voter: Client, id: string): Promise<VoteBody> {
    const res = await voter.json<VoteBody>(`/api/battles/${id}/vote`, { method: "POST", headers: json, body: JSON.stringify({ winner: "A" }) });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body;
  }
  /** A voted live battle from another address, on `prompt`. */
  async function votedElsewhere(prompt: string) {
    const battle = await db.battle.create({
      data: {
        mode: "live", prompt: [{ role: "user", content: prompt }], promptHash: questionTextHash(prompt), modelAId: models[0]!.id, modelBId: models[1]!.id,
        voterKey: `anon:${uniq("elsewhere")}`, ipHash: uniq("another-address"), status: "voted", language: "en",
      },
    });
    await db.vote.create({ data: { battleId: battle.id, winner: "A", voterKey: battle.voterKey, ipHash: battle.ipHash, modelAId: models[0]!.id, modelBId: models[1]!.id } });
  }

  beforeAll(async () => {
    admin = await adminClient();
    engine = await new FakeEngine().start();
    await db.model.updateMany({ where: { status: "active" }, data: { status: "disabled" } });
    models = [
      await createModel({ kind: "openai", engine: { baseUrl: engine.baseUrl, remoteModel: "tokens:2:0" } }),
      await createModel({ kind: "openai", engine: { baseUrl: engine.baseUrl, remoteModel: "tokens:3:0" } }),
    ];
    pool = await startWorkers(models);
    await waitFor(async () => {
      const health = await getModelHealth(models.map((m) => m.id));
      return models.every((m) => health.get(m.id)?.healthy);
    }, 20_000, "both test models to be healthy");
    original = await applyArenaSettings(admin, {
      liveBattlesPerVoter: 1000, liveBattlesPerIp: 1000, liveInFlightPerModel: 100, publishLivePrompts: false, limitWindowS: freshWindowS(),
    });
  });

  afterAll(async () => {
    if (admin && original) await applyArenaSettings(admin, original);
    await pool?.close(2_000);
    await engine?.stop();
    const ids = (models ?? []).map((m) => m.id);
    const battles = await db.battle.findMany({ where: { OR: [{ modelAId: { in: ids } }, { modelBId: { in: ids } }] }, select: { id: true } });
    await db.vote.deleteMany({ where: { battleId: { in: battles.map((b) => b.id) } } });
    await db.battle.deleteMany({ where: { id: { in: battles.map((b) => b.id) } } });
    await releasePipeline();
  });

  it("a named battle or a vote on a prompt reveals it to the address: a live battle on the same text from any of its cookies is not rated", async () => {
    const named = uniq("Write a haiku about rivers");
    await answeredLive(new Client(), { mode: "named", modelA: models[0]!.slug, modelB: models[1]!.slug, prompt: named });
    const second = new Client();
    expect(await vote(second, await live(second, named))).toMatchObject({ rated: false, valid: true });

    // A text never seen here is blind; once voted, the same text (however cased, spaced and
    // punctuated) is not, for this cookie or a fresh one from the address.
    const fresh = uniq("Name three birds");
    expect(await vote(second, await live(second, fresh))).toMatchObject({ rated: true, valid: true });
    const third = new Client();
    expect(await vote(third, await live(third, `  ${fresh.toUpperCase()}？ `))).toMatchObject({ rated: false, valid: true });
  });

  it("a live prompt asking a question whose answers are published is not rated; one asking a question in rotation is", async () => {
    const category = await db.category.findFirstOrThrow({ orderBy: { sortOrder: "asc" } });
    const asked = async (active: boolean) => {
      const text = uniq(`Why is the sky blue (${active ? "in rotation" : "retired"})?`);
      await db.question.create({ data: { text, textHash: questionTextHash(text), categoryId: category.id, language: "en", active } });
      return text;
    };
    const voter = new Client();
    expect(await vote(voter, await live(voter, await asked(false)))).toMatchObject({ rated: false });
    expect(await vote(voter, await live(voter, await asked(true)))).toMatchObject({ rated: true });
  });

  it("while live prompts are published, a text another address's voted battle asked is known to everyone: not rated, and a bank question with that text is not drawn", async () => {
    const hidden = uniq("What is a fjord");
    await votedElsewhere(hidden);
    const voter = new Client();
    expect(await vote(voter, await live(voter, hidden))).toMatchObject({ rated: true });

    await applyArenaSettings(admin, { publishLivePrompts: true });
    try {
      const shown = uniq("What is a delta");
      await votedElsewhere(shown);
      const other = new Client();
      expect(await vote(other, await live(other, shown))).toMatchObject({ rated: false });

      // The same text in the bank, in a category of its own, answered by both models.
      const tag = uniq("published");
      const category = await db.category.create({ data: { slug: tag, nameZh: `公开 ${tag}`, nameEn: `Published ${tag}`, sortOrder: 901 } });
      const text = uniq("What is an estuary");
      const question = await db.question.create({ data: { text, textHash: questionTextHash(text), categoryId: category.id, language: "en" } });
      for (const m of models) {
        await db.generation.create({
          data: { modelId: m.id, questionId: question.id, purpose: "pregen", status: "completed", messages: [{ role: "user", content: text }], text: uniq("cached"), finishedAt: new Date() },
        });
      }
      const bank = () => new Client().json<{ error?: { code: string } }>("/api/battles", { method: "POST", headers: json, body: JSON.stringify({ mode: "bank", categoryId: category.id }) });
      expect((await bank()).status).toBe(201);
      await votedElsewhere(text);
      const refused = await bank();
      expect(refused.status).toBe(409);
      expect(refused.body.error?.code).toBe("conflict:matchmaking");
    } finally {
      await applyArenaSettings(admin, { publishLivePrompts: false });
    }
  });
});

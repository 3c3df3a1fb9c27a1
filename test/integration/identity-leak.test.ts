import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { battleUnblinded } from "@/lib/arena/revealed-questions";
import { db } from "@/lib/db";
import { questionTextHash } from "@/lib/questions";
import { isolatedModels, uniq } from "./support/arena";
import { speak } from "./support/arena-settings";
import { Client } from "./support/http";
import { adminClient } from "./support/users";

// The attack of issue 24: one question in a category; a voter votes on a bank battle of it and
// learns the two models; if any page then showed every model's cached answer under its name,
// a second battle on that question (same cookie, or a fresh one from the same address) would be
// decided before the vote. Every test client here comes from one address, as one attacker's
// cookies would.

type Model = Awaited<ReturnType<typeof isolatedModels>>[number];
type Vote = { rated: boolean; valid: boolean; reveal: Record<"A" | "B", { slug: string }> };

const json = (body: unknown): RequestInit => ({ method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
const startBank = (client: Client, categoryId: string) =>
  client.json<{ id: string; error?: { code: string; message: string } }>("/api/battles", json({ mode: "bank", categoryId }));
const vote = (client: Client, battleId: string, winner = "A") => client.json<Vote>(`/api/battles/${battleId}/vote`, json({ winner }));
const html = async (client: Client, path: string) => {
  const res = await client.fetch(path);
  expect(res.status, path).toBe(200);
  return res.text();
};

/** A category of its own holding one question, answered by every model with a text of its own. */
async function oneQuestionCategory(models: Model[]) {
  const tag = uniq("leak");
  const category = await db.category.create({ data: { slug: tag, nameZh: `泄露 ${tag}`, nameEn: `Leak ${tag}`, sortOrder: 900 } });
  const text = `Which river runs under the city of ${tag}?`;
  const question = await db.question.create({ data: { text, textHash: questionTextHash(text), categoryId: category.id, language: "en" } });
  const answers = new Map<string, string>();
  for (const [i, m] of models.entries()) {
    const answer = `CACHED-${tag}-answer-${i}`;
    answers.set(m.id, answer);
    await db.generation.create({
      data: { modelId: m.id, questionId: question.id, purpose: "pregen", status: "completed", messages: [{ role: "user", content: text }], text: answer, finishedAt: new Date() },
    });
  }
  return { category, question, answers };
}

async function setPublishInRotation(on: boolean) {
  await db.arenaSettings.upsert({ where: { id: 1 }, create: { id: 1, publishAnswersInRotation: on }, update: { publishAnswersInRotation: on } });
}

/** Every way a page could name a model. */
const identities = (m: Model) => [m.displayName, m.slug, m.id, m.organisation!];

function expectAbsent(body: string, needles: string[], where: string) {
  for (const needle of needles) expect(body, `${where} contains "${needle}"`).not.toContain(needle);
}

/** The pages and APIs anyone can read that could list a model's answers. */
function publicPaths(models: Model[], questionId: string) {
  return [
    `/questions/${questionId}`,
    ...models.map((m) => `/models/${m.slug}`),
    `/models/${models[0]!.slug}/vs/${models[1]!.slug}`,
    `/models/${models[1]!.slug}/vs/${models[2]!.slug}`,
    "/leaderboard",
    "/api/leaderboard",
  ];
}

describe("no path to a contestant's identity before the vote", () => {
  let models: Model[];
  let settingsBefore: boolean | null;

  beforeAll(async () => {
    models = await isolatedModels(3, ["Sphinx-Alpha-7B", "Sphinx-Beta-13B", "Sphinx-Gamma-1B"]);
    settingsBefore = (await db.arenaSettings.findUnique({ where: { id: 1 } }))?.publishAnswersInRotation ?? null;
    await setPublishInRotation(false);
  });

  afterAll(async () => {
    if (settingsBefore === null) await db.arenaSettings.deleteMany({ where: { id: 1 } });
    else await setPublishInRotation(settingsBefore);
  });

  it("a vote unlocks nothing: the question's page names no answer, and the voter's second cookie is not served the question", async () => {
    const { category, question, answers } = await oneQuestionCategory(models);
    const first = new Client();
    const battle = await startBank(first, category.id);
    expect(battle.status).toBe(201);
    const voted = await vote(first, battle.body.id);
    expect(voted.status).toBe(200);
    expect(voted.body.rated).toBe(true);
    const pair = [voted.body.reveal.A.slug, voted.body.reveal.B.slug];
    const third = models.find((m) => !pair.includes(m.slug))!;

    // The voter's own battle may show its two answers to them, and nothing more.
    const own = await html(first, `/questions/${question.id}`);
    expectAbsent(own, [answers.get(third.id)!], "the voter's question page");

    // Anyone else — the voter's second cookie included — reads no cached answer anywhere.
    const second = new Client();
    for (const client of [second, new Client()]) {
      for (const path of publicPaths(models, question.id)) {
        const body = await html(client, path);
        expectAbsent(body, [...answers.values(), battle.body.id], path);
      }
    }

    // Nor can they open the voter's battle itself, which names both answers' models.
    expect((await second.fetch(`/api/battles/${battle.body.id}`)).status).toBe(403);
    expect((await first.fetch(`/api/battles/${battle.body.id}`)).status).toBe(200);

    // The attack: a fresh cookie from the same address, then the voter's own cookie, ask for a
    // battle in that one-question category. Neither gets the question again.
    for (const [client, lang] of [[second, "zh"], [first, "en"]] as const) {
      const again = await startBank(speak(client, lang), category.id);
      expect(again.status).toBe(409);
      expect(again.body.error).toMatchObject({ code: "conflict:matchmaking", key: "bankSeen" });
      expect(again.body.error!.message).toMatch(lang === "en" ? /voted on/ : /投过票/);
    }
    expect(await db.battle.count({ where: { questionId: question.id } })).toBe(1);
  });

  it("a named battle names its models at once: the question leaves this address's draws, and an open battle on it is not rated", async () => {
    const { category, question } = await oneQuestionCategory(models);
    const voter = new Client();
    const open = await startBank(voter, category.id);
    expect(open.status).toBe(201);
    const named = await new Client().json<{ id: string }>(
      "/api/battles",
      json({ mode: "named", modelA: models[0]!.slug, modelB: models[1]!.slug, questionId: question.id }),
    );
    expect(named.status).toBe(201);
    expect((await startBank(new Client(), category.id)).status).toBe(409);
    expect((await vote(voter, open.body.id)).body).toMatchObject({ rated: false, valid: true });
  });

  it("a named battle on a question's exact text counts as seeing its answers (greedy or seeded models repeat them)", async () => {
    const { category, question } = await oneQuestionCategory(models);
    const named = await new Client().json<{ id: string }>(
      "/api/battles",
      json({ mode: "named", modelA: models[0]!.slug, modelB: models[1]!.slug, prompt: question.text }),
    );
    expect(named.status).toBe(201);
    expect((await db.battle.findUniqueOrThrow({ where: { id: named.body.id } })).questionId).toBeNull();
    expect((await startBank(new Client(), category.id)).status).toBe(409);
  });

  it("a vote after the question was revealed to the same address is stored but not rated", async () => {
    const { category } = await oneQuestionCategory(models);
    // Two cookies open battles on the question before either votes: matchmaking cannot know.
    const [one, two] = [new Client(), new Client()];
    const battles = [];
    for (const client of [one, two]) {
      const res = await startBank(client, category.id);
      expect(res.status).toBe(201);
      battles.push(res.body.id);
    }
    const firstVote = await vote(one, battles[0]!);
    expect(firstVote.body).toMatchObject({ rated: true, valid: true });
    // The second voted after the first's reveal on the same address: not blind.
    const secondVote = await vote(two, battles[1]!);
    expect(secondVote.status).toBe(200);
    expect(secondVote.body).toMatchObject({ rated: false, valid: true });
    expect(await db.vote.findUniqueOrThrow({ where: { battleId: battles[1]! } })).toMatchObject({ rated: false });
  });

  it("a vote on a battle whose question left rotation meanwhile (its answers now published) is not rated", async () => {
    const { category, question } = await oneQuestionCategory(models);
    const voter = new Client();
    const battle = await startBank(voter, category.id);
    expect(battle.status).toBe(201);
    await db.question.update({ where: { id: question.id }, data: { active: false } });
    const res = await vote(voter, battle.body.id);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ rated: false, valid: true });
  });

  it("named answers appear once the question leaves rotation, or while in rotation only when the admin publishes them", async () => {
    const { category, question, answers } = await oneQuestionCategory(models);
    const voter = new Client();
    const battle = await startBank(voter, category.id);
    await vote(voter, battle.body.id);
    const stranger = new Client();
    const expectNamedAnswers = (body: string) => {
      for (const m of models) {
        expect(body).toContain(answers.get(m.id)!);
        expect(body).toContain(m.displayName);
      }
    };
    expectAbsent(await html(stranger, `/questions/${question.id}`), [...answers.values()], "an active question's page");

    await db.question.update({ where: { id: question.id }, data: { active: false } });
    expectNamedAnswers(await html(stranger, `/questions/${question.id}`));
    // The voted battle's two answers now show on its models' pages too.
    const { modelA } = await db.battle.findUniqueOrThrow({ where: { id: battle.body.id }, select: { modelA: { select: { slug: true } } } });
    expect(await html(stranger, `/models/${modelA.slug}`)).toContain(await answerOfSide(battle.body.id, "A"));
    expect((await stranger.json<{ reveal: unknown }>(`/api/battles/${battle.body.id}`)).body.reveal).not.toBeNull();

    await db.question.update({ where: { id: question.id }, data: { active: true } });
    expectAbsent(await html(stranger, `/questions/${question.id}`), [...answers.values()], "the question back in rotation");
    await setPublishInRotation(true);
    try {
      // Each process reads the settings through a cache of a few seconds: wait until it has the new ones.
      await expect.poll(async () => (await html(stranger, `/questions/${question.id}`)).includes(answers.get(models[0]!.id)!), { timeout: 20_000, interval: 500 }).toBe(true);
      expectNamedAnswers(await html(stranger, `/questions/${question.id}`));
    } finally {
      await setPublishInRotation(false);
    }
    await expect.poll(async () => (await html(stranger, `/questions/${question.id}`)).includes(answers.get(models[0]!.id)!), { timeout: 20_000, interval: 500 }).toBe(false);
  });

  it("a question back in rotation never serves the answers it published while out: only answers finished since", async () => {
    const { category, question, answers } = await oneQuestionCategory(models);
    const admin = await adminClient();
    const setActive = async (active: boolean) => {
      const res = await admin.json(`/api/admin/questions/${question.id}`, { ...json({ active }), method: "PATCH" });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    };
    // Out of rotation, anyone reads every answer under its model's name.
    await setActive(false);
    const published = await html(new Client(), `/questions/${question.id}`);
    for (const m of models) expect(published).toContain(answers.get(m.id)!);
    await setActive(true);
    const { answersPublishedUntil } = await db.question.findUniqueOrThrow({ where: { id: question.id } });
    expect(answersPublishedUntil).not.toBeNull();

    // Every cached answer is known now: nothing to serve, from any address.
    const refused = await startBank(speak(new Client(), "en"), category.id);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: "conflict:matchmaking", key: "bankCategoryNotReady" });
    expect(refused.body.error!.message).toMatch(/No question in this category has answers/);

    // Fresh answers from two models (sampled anew after the question came back) are blind again and served alone.
    const fresh = new Map<string, string>();
    for (const m of models.slice(0, 2)) {
      const text = `FRESH-${uniq("answer")}`;
      fresh.set(m.id, text);
      await db.generation.create({
        data: { modelId: m.id, questionId: question.id, purpose: "pregen", status: "completed", messages: [{ role: "user", content: question.text }], text, finishedAt: new Date() },
      });
    }
    // A greedy model asked again repeats its published text: still known, never served.
    const third = models[2]!;
    await db.generation.create({
      data: { modelId: third.id, questionId: question.id, purpose: "pregen", status: "completed", messages: [{ role: "user", content: question.text }], text: answers.get(third.id)!, finishedAt: new Date() },
    });
    const voter = new Client();
    const battle = await startBank(voter, category.id);
    expect(battle.status).toBe(201);
    const served = await db.battleGeneration.findMany({ where: { battleId: battle.body.id }, include: { generation: { select: { text: true } } } });
    expect(served.map((l) => l.generation.text).sort()).toEqual([...fresh.values()].sort());
    expect((await vote(voter, battle.body.id)).body).toMatchObject({ rated: true, valid: true });

    // A battle opened on the old answers before the question went out is not rated after it.
    const old = await db.battle.create({
      data: {
        mode: "bank", questionId: question.id, categoryId: category.id, modelAId: models[0]!.id, modelBId: models[2]!.id, status: "ready",
        voterKey: `anon:${uniq("before")}`, ipHash: uniq("elsewhere"), language: "en", promptHash: question.textHash,
        generations: {
          create: [
            { side: "A", turn: 0, generationId: (await db.generation.findFirstOrThrow({ where: { questionId: question.id, modelId: models[0]!.id, text: answers.get(models[0]!.id)! } })).id },
            { side: "B", turn: 0, generationId: (await db.generation.findFirstOrThrow({ where: { questionId: question.id, modelId: models[2]!.id } })).id },
          ],
        },
      },
    });
    const settings = { publishAnswersInRotation: false, publishLivePrompts: false };
    expect(await battleUnblinded({ battleId: old.id, voter: { voterKey: old.voterKey, userId: null, ipHash: old.ipHash }, settings })).toBe(true);
    expect(await battleUnblinded({ battleId: battle.body.id, voter: { voterKey: `anon:${uniq("other")}`, userId: null, ipHash: uniq("other") }, settings })).toBe(false);
  });

  it("a category that does not exist is a 404, not a bank that is not ready yet", async () => {
    const res = await startBank(speak(new Client(), "en"), "no-such-category");
    expect(res.status).toBe(404);
    expect(res.body.error).toMatchObject({ code: "not_found:category", message: "No such category." });
  });

  it("before the vote, nothing a voter can read names a contestant or ties a cached answer to one", async () => {
    const { category, question, answers } = await oneQuestionCategory(models);
    // Someone elsewhere (another address) has already voted on this question: its battle is on
    // the public lists, and this address may still be served the question.
    const [a, b] = [models[0]!, models[1]!];
    const elsewhere = await db.battle.create({
      data: {
        mode: "bank", questionId: question.id, categoryId: category.id, modelAId: a.id, modelBId: b.id, voterKey: `anon:${uniq("elsewhere")}`,
        ipHash: uniq("another-address"), status: "voted", language: "en",
        generations: {
          create: [
            { side: "A", turn: 0, generationId: (await db.generation.findFirstOrThrow({ where: { questionId: question.id, modelId: a.id } })).id },
            { side: "B", turn: 0, generationId: (await db.generation.findFirstOrThrow({ where: { questionId: question.id, modelId: b.id } })).id },
          ],
        },
      },
    });
    await db.vote.create({
      data: { battleId: elsewhere.id, winner: "A", voterKey: elsewhere.voterKey, ipHash: elsewhere.ipHash, modelAId: a.id, modelBId: b.id, categoryId: category.id },
    });

    const voter = new Client();
    const created = await startBank(voter, category.id);
    expect(created.status).toBe(201);
    const id = created.body.id;
    const names = models.flatMap(identities);

    // The battle's own views carry both texts and no identity.
    const battlePage = await html(voter, "/battle");
    expectAbsent(battlePage, names, "the battle page");
    const view = await voter.fetch(`/api/battles/${id}`);
    const viewText = await view.text();
    expectAbsent(viewText, names, "the battle's API view");
    expect(JSON.parse(viewText)).toMatchObject({ reveal: null, vote: null, complete: true });
    const served: string[] = [];
    for (const side of ["A", "B"]) {
      const frames = await (await voter.fetch(`/api/battles/${id}/stream?side=${side}&turn=0`)).text();
      expectAbsent(frames, names, `side ${side}'s stream`);
      served.push(...[...answers.values()].filter((text) => frames.includes(text)));
    }
    expect(served).toHaveLength(2);

    // Everything public: no cached answer of this question, so none can be matched to a name.
    for (const path of publicPaths(models, question.id)) {
      expectAbsent(await html(voter, path), [...answers.values()], path);
    }
  });
});

async function answerOfSide(battleId: string, side: "A" | "B"): Promise<string> {
  const link = await db.battleGeneration.findFirstOrThrow({ where: { battleId, side, turn: 0 }, include: { generation: { select: { text: true } } } });
  return link.generation.text;
}

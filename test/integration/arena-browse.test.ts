import { beforeAll, describe, expect, it } from "vitest";
import { computeAndStoreRatingRun } from "@/lib/arena/ratings-job";
import { db } from "@/lib/db";
import { answeredQuestion, isolatedModels } from "./support/arena";
import { Client } from "./support/http";

const post = (client: Client, path: string, body: unknown) =>
  client.json<Record<string, unknown>>(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

describe("named mode and browse pages", () => {
  let models: Awaited<ReturnType<typeof isolatedModels>>;
  let questionId: string;

  beforeAll(async () => {
    models = await isolatedModels(2, ["Kirin-Alpha", "Kirin-Beta"]);
    questionId = (await answeredQuestion(models, ["SECRET-ANSWER-ALPHA", "SECRET-ANSWER-BETA"])).id;
  });

  it("named battles show both identities, and their votes are kept but never rated", async () => {
    const voter = new Client();
    const created = await post(voter, "/api/battles", { mode: "named", modelA: models[0]!.slug, modelB: models[1]!.slug });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect((await db.battle.findUniqueOrThrow({ where: { id } })).questionId).toBe(questionId);
    const view = await voter.json<{ reveal: { A: { slug: string } } }>(`/api/battles/${id}`);
    expect(view.body.reveal.A.slug).toBe(models[0]!.slug);
    const before = await db.model.findUniqueOrThrow({ where: { id: models[0]!.id } });
    const voted = await post(voter, `/api/battles/${id}/vote`, { winner: "A" });
    expect(voted.status).toBe(200);
    expect(voted.body.rated).toBe(false);
    await computeAndStoreRatingRun({ bootstrapRounds: 0 });
    const after = await db.model.findUniqueOrThrow({ where: { id: models[0]!.id } });
    expect(after.elo).toBe(before.elo);
    expect(await db.vote.findUniqueOrThrow({ where: { battleId: id } })).toMatchObject({ rated: false, valid: true });
  });

  it("named mode names the field when a model is unknown", async () => {
    const res = await post(new Client(), "/api/battles", { mode: "named", modelA: models[0]!.slug, modelB: "no-such-model" });
    expect(res.status).toBe(400);
    expect((res.body.error as { field: string }).field).toBe("modelB");
  });

  it("a question page shows no bank answer while the question is in rotation, not even to a voter who voted on it", async () => {
    // The named battle above showed this address the first question's answers by name, so the
    // bank draw can only be this one.
    const fresh = await answeredQuestion(models, ["SECRET-ANSWER-GAMMA", "SECRET-ANSWER-DELTA"]);
    const voter = new Client();
    const created = await post(voter, "/api/battles", { mode: "bank" });
    expect((await db.battle.findUniqueOrThrow({ where: { id: created.body.id as string } })).questionId).toBe(fresh.id);
    await post(voter, `/api/battles/${created.body.id}/vote`, { winner: "tie" });
    const own = await (await voter.fetch(`/questions/${fresh.id}`)).text();
    expect(own).toContain('data-testid="answers-hidden"');
    const stranger = new Client();
    const hidden = await (await stranger.fetch(`/questions/${fresh.id}`)).text();
    expect(hidden).not.toContain("SECRET-ANSWER-GAMMA");
    expect(hidden).not.toContain("SECRET-ANSWER-DELTA");

    // Out of rotation, its answers are published under their models' names.
    await db.question.update({ where: { id: fresh.id }, data: { active: false } });
    const shown = await (await stranger.fetch(`/questions/${fresh.id}`)).text();
    expect(shown).toContain("SECRET-ANSWER-GAMMA");
    expect(shown).toContain("SECRET-ANSWER-DELTA");
  });

  it("a model page and a head-to-head page render; unknown models are 404", async () => {
    const page = await new Client().fetch(`/models/${models[0]!.slug}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("Kirin-Alpha");
    const h2h = await new Client().fetch(`/models/${models[0]!.slug}/vs/${models[1]!.slug}`);
    expect(h2h.status).toBe(200);
    expect((await new Client().fetch("/models/does-not-exist")).status).toBe(404);
  });
});

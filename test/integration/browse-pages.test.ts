import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { computeAndStoreRatingRun } from "@/lib/arena/ratings-job";
import { db } from "@/lib/db";
import { questionTextHash } from "@/lib/questions";
import { isolatedModels, uniq } from "./support/arena";
import { waitFor } from "./pipeline/helpers";
import { applyArenaSettings } from "./support/arena-settings";
import { Client } from "./support/http";
import { adminClient } from "./support/users";

// Browsing (issue 27, point 5): the models index, the battle browser with its filters (model,
// category, outcome, dates) and the privacy rule, and the head-to-head page reached from the
// model page and from the leaderboard's matrices.

type M = { id: string; slug: string; displayName: string };
let x: M, y: M, z: M;
let category: { id: string; slug: string };
const tag = uniq("browse");
const cards = (html: string) => html.match(/data-testid="battle-card"/g)?.length ?? 0;
const page = async (path: string) => {
  const res = await new Client().fetch(path);
  expect(res.status, path).toBe(200);
  // React's text separators out, so the page reads as a visitor sees it.
  return (await res.text()).replaceAll("<!-- -->", "");
};

/** A voted battle on a bank question of this file's category (or a live one), on a given day. */
async function voted({ a, b, winner, day, live = false }: { a: M; b: M; winner: "A" | "B" | "tie" | "both_bad"; day: string; live?: boolean }) {
  const text = uniq(`${tag} question`);
  const question = live ? null : await db.question.create({ data: { text, textHash: questionTextHash(text), categoryId: category.id, language: "en", active: false } });
  const createdAt = new Date(`${day}T12:00:00Z`);
  const battle = await db.battle.create({
    data: {
      mode: live ? "live" : "bank", questionId: question?.id ?? null, categoryId: live ? null : category.id, modelAId: a.id, modelBId: b.id,
      voterKey: uniq("v"), ipHash: "ip", status: "voted", createdAt, ...(live ? { prompt: [{ role: "user", content: `${tag} live prompt` }] } : {}),
    },
  });
  await db.vote.create({ data: { battleId: battle.id, winner, voterKey: battle.voterKey, ipHash: "ip", modelAId: a.id, modelBId: b.id, categoryId: battle.categoryId, createdAt } });
}

beforeAll(async () => {
  [x, y, z] = (await isolatedModels(3, [`Browse X ${tag}`, `Browse Y ${tag}`, `Browse Z ${tag}`])) as unknown as [M, M, M];
  category = await db.category.create({ data: { slug: tag, nameZh: `浏览 ${tag}`, nameEn: `Browse ${tag}`, sortOrder: 980 } });
  await voted({ a: x, b: y, winner: "A", day: "2026-01-10" });
  await voted({ a: x, b: z, winner: "tie", day: "2026-02-10" });
  await voted({ a: y, b: z, winner: "both_bad", day: "2026-03-10" });
  await voted({ a: x, b: y, winner: "B", day: "2026-03-11", live: true });
});

afterAll(async () => {
  await db.model.updateMany({ where: { id: { in: [x, y, z].filter(Boolean).map((m) => m.id) } }, data: { status: "disabled" } });
});

describe("browse pages", () => {
  it("the models index has a card per visible model with its organisation, kind and battles", async () => {
    await computeAndStoreRatingRun({ bootstrapRounds: 5 });
    await db.model.update({ where: { id: z.id }, data: { status: "retired" } });
    try {
      const html = await page("/models");
      for (const m of [x, y, z]) expect(html).toContain(`data-testid="model-card-${m.slug}"`);
      const cardOf = (m: M) => html.split(`data-testid="model-card-${m.slug}"`)[1]!.split("</article>")[0]!;
      expect(cardOf(x)).toContain(`Org ${x.slug}`);
      expect(cardOf(x)).toMatch(/ 3 (场|battles)/);
      expect(cardOf(z)).toMatch(/已退役|retired/);
      await db.model.update({ where: { id: z.id }, data: { status: "disabled" } });
      expect(await page("/models")).not.toContain(`model-card-${z.slug}`);
    } finally {
      await db.model.update({ where: { id: z.id }, data: { status: "active" } });
    }
  });

  it("the battle browser filters by model, category, outcome and dates, and lists live battles only while they are published", async () => {
    expect(cards(await page(`/battles?model=${x.slug}`))).toBe(2);
    expect(cards(await page(`/battles?model=${y.slug}&outcome=decisive`))).toBe(1);
    expect(cards(await page(`/battles?model=${z.slug}&outcome=both_bad`))).toBe(1);
    expect(cards(await page(`/battles?category=${category.slug}`))).toBe(3);
    expect(cards(await page(`/battles?category=${category.slug}&from=2026-02-01&to=2026-03-10`))).toBe(2);
    expect(cards(await page(`/battles?category=${category.slug}&to=2026-01-10`))).toBe(1);
    expect((await new Client().fetch("/battles?model=no-such-model")).status).toBe(404);
    const admin = await adminClient();
    const before = await applyArenaSettings(admin, { publishLivePrompts: true });
    try {
      // Pages keep the settings a few seconds of their own.
      await waitFor(async () => cards(await page(`/battles?model=${x.slug}`)) === 3, 15_000, "the live battle to be listed");
      expect(await page(`/battles?model=${x.slug}`)).toContain(`${tag} live prompt`);
    } finally {
      await applyArenaSettings(admin, { publishLivePrompts: before.publishLivePrompts });
    }
  });

  it("head to head is linked from the model page and from the leaderboard's matrices", async () => {
    const model = await page(`/models/${x.slug}`);
    expect(model).toContain(`href="/models/${x.slug}/vs/${y.slug}"`);
    expect(model).toContain(`href="/models/${x.slug}/vs/${z.slug}"`);
    expect(model).toContain(`href="/battles?model=${x.slug}"`);
    await computeAndStoreRatingRun({ bootstrapRounds: 5 });
    const board = await page("/leaderboard");
    expect(board).toContain(`href="/models/${x.slug}/vs/${y.slug}"`);
    const h2h = await page(`/models/${x.slug}/vs/${y.slug}`);
    expect(h2h).toContain('data-testid="h2h-record"');
  });
});

import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { computeAndStoreRatingRun, getLatestRatingRun } from "@/lib/arena/ratings-job";
import { db } from "@/lib/db";
import { fill, messages } from "@/lib/i18n";
import { Client } from "./support/http";
import { adminClient, voterClient } from "./support/users";

// The ratings job stores the plain and the style-controlled view, on the scale and with the
// prompt de-duplication of the admin's rating settings; the API and the pages serve them.

const run = randomBytes(4).toString("hex");
const VERBOSE = "# Answer\n\n## Details\n\n1. **First**, the city sank.\n2. Then the sea rose.\n- a note\n\n```\n# not a header\n- not a list\n```\n";
const TERSE = "It sank.";
let admin: Client;
let models: { id: string; slug: string }[];

type Rating = { model: string; bt: number | null; ciLow: number | null; ciHigh: number | null; rank: number };
type Run = {
  leaderboard: { models: Rating[]; styleControl?: { models: Rating[]; coefficients: Record<string, number>; bootstrapMethod: string } };
  scale: { anchor: { model: string; rating: number } | null };
  dedup: { threshold: number; excludedVotes: number; prompts: number };
};

/** A battle with both sides' answers and its vote, written as the arena writes them; `prompt` makes it a live battle. */
async function votedBattle(a: string, b: string, winner: "A" | "B" | "tie", prompt?: string) {
  const voterKey = `views-${run}-${randomBytes(3).toString("hex")}`;
  const battle = await db.battle.create({
    data: { mode: prompt ? "live" : "bank", prompt: prompt ? [{ role: "user", content: prompt }] : undefined, modelAId: a, modelBId: b, voterKey, ipHash: voterKey, status: "voted" },
  });
  for (const [side, modelId] of [["A", a], ["B", b]] as const) {
    const generation = await db.generation.create({
      data: { modelId, purpose: prompt ? "live" : "pregen", status: "completed", messages: [], text: modelId === models[0]!.id ? VERBOSE : TERSE, finishedAt: new Date() },
    });
    await db.battleGeneration.create({ data: { battleId: battle.id, side, generationId: generation.id } });
  }
  return db.vote.create({ data: { battleId: battle.id, winner, voterKey, ipHash: voterKey, modelAId: a, modelBId: b } });
}

async function putSettings(client: Client, body: unknown) {
  return client.json<{ error?: { code: string; field?: string } }>("/api/admin/ratings/settings", {
    method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
  });
}

beforeAll(async () => {
  admin = await adminClient();
  models = await Promise.all(["Verbose", "Terse", "Middle"].map((name, i) =>
    db.model.create({ data: { slug: `views-${run}-${i}`, displayName: `${name}-${run}`, kind: "openai", status: "disabled", engine: { baseUrl: "http://127.0.0.1:9/v1", remoteModel: "m" } } })));
  const [verbose, terse, middle] = models.map((m) => m.id) as [string, string, string];
  // Verbose wins most of its battles; Middle and Terse split theirs.
  for (let i = 0; i < 12; i++) {
    await votedBattle(verbose, terse, i % 4 === 0 ? "B" : "A");
    await votedBattle(middle, verbose, i % 3 === 0 ? "A" : "B");
    await votedBattle(terse, middle, i % 2 === 0 ? "A" : "B");
  }
});

afterAll(async () => {
  await db.ratingSettings.deleteMany({});
  await db.battle.deleteMany({ where: { modelAId: { in: models.map((m) => m.id) } } });
  await computeAndStoreRatingRun({ bootstrapRounds: 0 });
});

describe("rating views", () => {
  it("stores both views, with each answer's style counts computed once", async () => {
    await computeAndStoreRatingRun({ bootstrapRounds: 20 });
    const stored = (await getLatestRatingRun())!;
    const style = stored.leaderboard.styleControl!;
    expect(style.bootstrapMethod).toBe("exact");
    // JSONB keeps its own key order: compare the set.
    expect(Object.keys(style.coefficients).sort()).toEqual(["bold", "headers", "length", "lists"]);
    const ours = new Set(models.map((m) => m.id));
    expect(style.models.filter((m) => ours.has(m.model)).map((m) => m.model).sort()).toEqual([...ours].sort());
    // This file's models (another file's may have never lost: an open side is null).
    for (const m of style.models.filter((m) => ours.has(m.model))) expect(m.ciLow).toBeLessThanOrEqual(m.ciHigh);
    // Default settings: nothing anchored, a live prompt counted 20 times at most.
    expect(stored.scale.anchor).toBeNull();
    expect(stored.dedup.threshold).toBe(20);
    const verbose = await db.generation.findFirstOrThrow({ where: { modelId: models[0]!.id }, select: { styleCounts: true } });
    // Outside the code fence: two headers, three list items, one bold span.
    expect(verbose.styleCounts).toMatchObject({ headers: 2, lists: 3, bold: 1 });
    expect((verbose.styleCounts as { tokens: number }).tokens).toBeGreaterThan(20);
    const terse = await db.generation.findFirstOrThrow({ where: { modelId: models[1]!.id }, select: { styleCounts: true } });
    expect(terse.styleCounts).toEqual({ tokens: 3, headers: 0, lists: 0, bold: 0 });
  });

  it("the leaderboard API serves both views, and the page switches between them", async () => {
    const { status, body } = await new Client().json<Run>("/api/leaderboard");
    expect(status).toBe(200);
    const plain = body.leaderboard.models.find((m) => m.model === models[0]!.id)!;
    const styled = body.leaderboard.styleControl!.models.find((m) => m.model === models[0]!.id)!;
    expect(plain.bt).not.toBeNull();
    expect(styled.bt).not.toBeNull();
    expect(styled.bt).not.toBeCloseTo(plain.bt!, 3);
    const page = await (await new Client().fetch("/leaderboard?view=style")).text();
    expect(page).toContain('data-view="style"');
    expect(page).toMatch(/Style control: models compared at equal answer length|风格控制：在回答长度/);
    expect(await (await new Client().fetch("/leaderboard")).text()).toContain('data-view="plain"');
  });

  it("settings are admin-only and validated, and bad input changes nothing", async () => {
    const voter = await voterClient();
    expect((await putSettings(voter, { anchorModelId: null, anchorRating: 1000, dedupThreshold: 2 })).status).toBe(403);
    expect((await new Client().fetch("/api/admin/ratings/settings")).status).toBe(401);
    const negative = await putSettings(admin, { anchorModelId: null, anchorRating: 1000, dedupThreshold: -1 });
    expect(negative.status).toBe(400);
    const unknown = await putSettings(admin, { anchorModelId: "no-such-model", anchorRating: 1114, dedupThreshold: 2 });
    expect([unknown.status, unknown.body.error?.field]).toEqual([400, "anchorModelId"]);
    expect(await db.ratingSettings.count()).toBe(0);
  });

  it("de-duplicates an over-asked live prompt and anchors the scale as the admin set them", async () => {
    const saved = await putSettings(admin, { anchorModelId: models[1]!.id, anchorRating: 1114, dedupThreshold: 2 });
    expect(saved.status).toBe(200);
    // Other suites' live battles share this database: count what de-duplication leaves out before and after.
    await computeAndStoreRatingRun({ bootstrapRounds: 0 });
    const before = (await getLatestRatingRun())!.dedup;
    // One live prompt asked seven times, spelled differently: de-duplication sees one prompt.
    const [verbose, terse] = [models[0]!.id, models[1]!.id];
    for (let i = 0; i < 7; i++) await votedBattle(terse, verbose, "A", i % 2 ? "Tell me   a JOKE " : "tell me a joke");
    await computeAndStoreRatingRun({ bootstrapRounds: 10 });
    const { body } = await new Client().json<Run>("/api/leaderboard");
    // Seven votes on one prompt, two counted: five left out, and still stored.
    expect(body.dedup).toEqual({ threshold: 2, excludedVotes: before.excludedVotes + 5, prompts: before.prompts + 1 });
    expect(await db.vote.count({ where: { modelAId: models[1]!.id, modelBId: models[0]!.id, valid: true } })).toBe(7);
    expect(body.scale.anchor).toEqual({ model: models[1]!.id, rating: 1114 });
    expect(body.leaderboard.models.find((m) => m.model === models[1]!.id)!.bt).toBeCloseTo(1114, 6);
    expect(body.leaderboard.styleControl!.models.find((m) => m.model === models[1]!.id)!.bt).toBeCloseTo(1114, 6);
    const page = await (await new Client().fetch("/leaderboard")).text();
    expect(page).toContain(`Terse-${run} = 1114`);
    const adminPage = await (await admin.fetch("/admin/ratings")).text();
    expect(adminPage).toContain(`data-excluded="${body.dedup.excludedVotes}"`);
    // The admin reads Chinese here (no language asked for): the de-duplication line in it.
    const { threshold, excludedVotes: excluded, prompts } = body.dedup;
    expect(adminPage).toContain(fill(messages("zh").adminRatings.dedupOn, { excluded, prompts, threshold }));
    const audit = await db.auditLog.findFirst({ where: { action: "ratings.settings" }, orderBy: { createdAt: "desc" } });
    expect(audit).not.toBeNull();
  });
});

import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { computeAndStoreRatingRun } from "@/lib/arena/ratings-job";
import { db } from "@/lib/db";
import { Client } from "./support/http";
import { adminClient, voterClient } from "./support/users";

// The admin's minimum of battles before a model is ranked: saved and validated through the
// settings API, shown on the admin page, and applied by the leaderboard API and page at once
// (no recompute needed). Votes go into a category of this file's own: others share the database.

const tag = randomBytes(4).toString("hex");
type Row = { model: string; rank: number | null; provisional: boolean; battles: number; bound: string | null };
type Scope = { ranked: Row[]; provisional: Row[]; models: Row[]; winRateMatrix: { models: string[] } };
type View = { minBattlesRanked: number; leaderboard: Scope & { categories: Record<string, Scope> } };

let admin: Client;
let category: { id: string; slug: string };
let models: { id: string; slug: string }[];

async function putSettings(client: Client, body: Record<string, unknown>) {
  return client.json<{ settings?: { minBattlesRanked: number }; error?: { code: string } }>("/api/admin/ratings/settings", {
    method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ anchorModelId: null, anchorRating: 1000, dedupThreshold: 20, ...body }),
  });
}

async function scope(): Promise<{ view: View; scope: Scope }> {
  const { status, body } = await new Client().json<View>("/api/leaderboard");
  expect(status).toBe(200);
  return { view: body, scope: body.leaderboard.categories[category.slug]! };
}

beforeAll(async () => {
  admin = await adminClient();
  category = await db.category.create({ data: { slug: `board-${tag}`, nameZh: `榜单 ${tag}`, nameEn: `Board ${tag}`, sortOrder: 998 } });
  models = await Promise.all(["Steady-A", "Steady-B", "Steady-C", "Fresh"].map((name, i) =>
    db.model.create({ data: { slug: `board-${tag}-${i}`, displayName: `${name}-${tag}`, kind: "openai", status: "disabled", engine: { baseUrl: "http://127.0.0.1:9/v1", remoteModel: "m" } } })));
  const [a, b, c, fresh] = models.map((m) => m.id) as [string, string, string, string];
  const battles: [string, string, "A" | "B" | "tie"][] = [];
  // Three models with 24 battles each, every pair won both ways; Fresh beat A once and never lost.
  for (let i = 0; i < 12; i++) battles.push([a, b, i % 3 ? "A" : "B"], [b, c, i % 3 ? "A" : "B"], [c, a, i % 4 ? "B" : "A"]);
  battles.push([fresh, a, "A"]);
  for (const [k, [x, y, winner]] of battles.entries()) {
    const voterKey = `board-${tag}-${k}`;
    const battle = await db.battle.create({ data: { mode: "bank", categoryId: category.id, modelAId: x, modelBId: y, voterKey, ipHash: voterKey, status: "voted" } });
    await db.vote.create({ data: { battleId: battle.id, winner, voterKey, ipHash: voterKey, modelAId: x, modelBId: y, categoryId: category.id } });
  }
  await computeAndStoreRatingRun({ bootstrapRounds: 20 });
});

afterAll(async () => {
  await db.ratingSettings.deleteMany({});
  await db.battle.deleteMany({ where: { categoryId: category.id } });
  await computeAndStoreRatingRun({ bootstrapRounds: 0 });
});

describe("provisional models on the leaderboard", () => {
  it("lists an undefeated model with one battle apart, unranked, by default (20 battles)", async () => {
    const { view, scope: board } = await scope();
    expect(view.minBattlesRanked).toBe(20);
    const fresh = models[3]!.id;
    expect(board.provisional).toEqual([expect.objectContaining({ model: fresh, rank: null, provisional: true, battles: 1, bound: "upper-open" })]);
    expect(board.ranked.map((r) => r.model)).not.toContain(fresh);
    expect(board.ranked).toHaveLength(3);
    expect(board.ranked.every((r) => typeof r.rank === "number" && !r.provisional)).toBe(true);
    // Older clients read one list: ranked first, then provisional; the matrices follow it.
    expect(board.models.map((r) => r.model)).toEqual([...board.ranked, ...board.provisional].map((r) => r.model));
    expect(board.winRateMatrix.models).toEqual(board.models.map((r) => r.model));

    const html = await (await new Client().fetch(`/leaderboard?category=${category.slug}`)).text();
    expect(html).toContain(`data-testid="provisional-row-${models[3]!.slug}"`);
    expect(html).not.toContain(`data-testid="leaderboard-row-${models[3]!.slug}"`);
    expect(html).toContain(`data-testid="leaderboard-row-${models[0]!.slug}"`);
    expect(html).toMatch(/排序：先按排名|Order: by rank/);

    // The model's own page says the same: no rank for the provisional one, a rank for the others.
    await db.model.updateMany({ where: { id: { in: [models[0]!.id, fresh] } }, data: { status: "retired" } });
    try {
      const rating = async (slug: string) => /data-testid="model-rating"[^>]*>([\s\S]*?)<\/p>/.exec(await (await new Client().fetch(`/models/${slug}`)).text())?.[1] ?? "";
      const freshRating = await rating(models[3]!.slug);
      expect(freshRating).toMatch(/暂定|provisional/);
      expect(freshRating).not.toContain("#");
      expect(await rating(models[0]!.slug)).toMatch(/#\d/);
    } finally {
      await db.model.updateMany({ where: { id: { in: [models[0]!.id, fresh] } }, data: { status: "disabled" } });
    }
  });

  it("is an admin setting, validated, that applies at once; an older client keeps it", async () => {
    const voter = await voterClient();
    expect((await putSettings(voter, { minBattlesRanked: 1 })).status).toBe(403);
    for (const bad of [0, -3, 2.5, "20"]) expect((await putSettings(admin, { minBattlesRanked: bad })).status).toBe(400);

    const saved = await putSettings(admin, { minBattlesRanked: 1 });
    expect([saved.status, saved.body.settings?.minBattlesRanked]).toEqual([200, 1]);
    // Read with the stored run, no new one needed: the one-battle model is ranked now (it never lost: rank 1).
    const { view, scope: board } = await scope();
    expect(view.minBattlesRanked).toBe(1);
    expect(board.provisional).toEqual([]);
    expect(board.ranked.find((r) => r.model === models[3]!.id)).toMatchObject({ rank: 1, provisional: false });

    // A client that does not know the field leaves it as saved.
    expect((await putSettings(admin, { dedupThreshold: 25 })).body.settings?.minBattlesRanked).toBe(1);
    const page = await (await admin.fetch("/admin/ratings")).text();
    expect(page).toMatch(/data-testid="rating-min-battles"[^>]*value="1"|value="1"[^>]*data-testid="rating-min-battles"/);

    expect((await putSettings(admin, { minBattlesRanked: 20 })).status).toBe(200);
    expect((await scope()).scope.provisional.map((r) => r.model)).toEqual([models[3]!.id]);
  });
});

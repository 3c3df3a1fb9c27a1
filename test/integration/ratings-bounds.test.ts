import { beforeAll, describe, expect, it } from "vitest";
import { computeAndStoreRatingRun } from "@/lib/arena/ratings-job";
import { db } from "@/lib/db";
import { freshBankBattle, isolatedModels } from "./support/arena";
import { Client } from "./support/http";

type Row = { model: string; bt: number | null; ciLow: number | null; ciHigh: number | null; bound: string | null; provisional: boolean };

// A model that won every battle has no finite Bradley–Terry rating: the stored run, the API and
// the page report its bound and an interval open on that side, not a made-up narrow range.
describe("a model that never lost", () => {
  let models: Awaited<ReturnType<typeof isolatedModels>>;
  let wins = 0;

  beforeAll(async () => {
    // Unbeaten wins every battle it is in; the other two only ever tie, so they are the
    // reference pair (rated as usual) and Unbeaten is open above. Battles draw pairs at random:
    // go on until both kinds happened.
    models = await isolatedModels(3, ["Unbeaten-7B", "Tied-A-7B", "Tied-B-7B"]);
    let ties = 0;
    for (let i = 0; i < 60 && (wins < 3 || ties < 1); i++) {
      const voter = new Client();
      const id = await freshBankBattle(voter, models);
      const battle = await db.battle.findUniqueOrThrow({ where: { id } });
      const unbeaten = [battle.modelAId, battle.modelBId].indexOf(models[0]!.id);
      const winner = unbeaten === 0 ? "A" : unbeaten === 1 ? "B" : "tie";
      if (winner === "tie") ties++;
      else wins++;
      const res = await voter.fetch(`/api/battles/${id}/vote`, {
        method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ winner }),
      });
      expect(res.status).toBe(200);
    }
    expect(wins >= 3 && ties >= 1).toBe(true);
    await computeAndStoreRatingRun({ bootstrapRounds: 20 });
  });

  it("the leaderboard API serves its bound, the open side as null, and marks it provisional", async () => {
    const { body } = await new Client().json<{ leaderboard: { models: Row[] } }>("/api/leaderboard");
    const rows = new Map(body.leaderboard.models.map((r) => [r.model, r]));
    const unbeaten = rows.get(models[0]!.id)!;
    expect(unbeaten).toMatchObject({ bound: "upper-open", ciHigh: null, provisional: true });
    expect(unbeaten.bt).toBe(unbeaten.ciLow);
    for (const tied of models.slice(1).map((m) => rows.get(m.id)!)) {
      expect(tied.bound).toBeNull();
      expect(Number.isFinite(tied.ciLow) && Number.isFinite(tied.ciHigh)).toBe(true);
      expect(tied.bt!).toBeCloseTo(1000, 6); // they only tied each other: both at the mean
    }
    // The bound is the one-sided 97.5% limit: the rating at which winning all `wins` battles
    // against 1000-rated opponents has a 2.5% chance (few wins prove little, so it can lie below).
    const p = 0.025 ** (1 / wins);
    expect(unbeaten.bt!).toBeCloseTo(1000 + 400 * Math.log10(p / (1 - p)), 6);
  });

  it("the leaderboard page lists it apart as provisional, with no rank and no bound to compare", async () => {
    // A few wins prove little: its bound (possibly below the models it beat) is not shown
    // against ranked models' ratings. The e2e leaderboard spec shows a ranked one's bound.
    const html = await (await new Client().fetch("/leaderboard")).text();
    expect(html).toContain(`data-testid="provisional-row-${models[0]!.slug}"`);
    expect(html).not.toContain(`data-testid="leaderboard-row-${models[0]!.slug}"`);
    expect(html).not.toContain(`data-testid="rating-${models[0]!.slug}"`);
    expect(html).toMatch(/BT scale: mean 1000|BT 评分：已评分模型的平均值为 1000/); // which scale is in force
  });
});

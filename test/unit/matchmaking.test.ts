import { describe, expect, it } from "vitest";
import { drawWeight, NotEnoughModelsError, pickPair, type Contender } from "@/lib/arena/matchmaking";
import { Rng } from "@/lib/ratings";

const seeded = (seed: number) => {
  const rng = new Rng(seed);
  return () => rng.nextDouble();
};

describe("matchmaking", () => {
  it("never draws a model with zero weight and never pairs a model with itself", () => {
    const pool: Contender[] = [
      { id: "a", battleWeight: 1, battles: 10 },
      { id: "b", battleWeight: 0, battles: 0 },
      { id: "c", battleWeight: 2, battles: 10 },
    ];
    const random = seeded(1);
    for (let i = 0; i < 2000; i++) {
      const { a, b } = pickPair(pool, random);
      expect(a.id).not.toBe(b.id);
      expect([a.id, b.id]).not.toContain("b");
    }
  });

  it("draws in proportion to weight and swaps sides at random", () => {
    const pool: Contender[] = [
      { id: "heavy", battleWeight: 3, battles: 1000 },
      { id: "light", battleWeight: 1, battles: 1000 },
      { id: "other", battleWeight: 1, battles: 1000 },
    ];
    const random = seeded(7);
    const appearances: Record<string, number> = { heavy: 0, light: 0, other: 0 };
    let heavyOnA = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const { a, b } = pickPair(pool, random);
      appearances[a.id]!++;
      appearances[b.id]!++;
      if (a.id === "heavy") heavyOnA++;
    }
    expect(appearances.heavy! / n).toBeGreaterThan(appearances.light! / n + 0.2);
    expect(Math.abs(appearances.light! - appearances.other!) / n).toBeLessThan(0.03);
    expect(heavyOnA / appearances.heavy!).toBeCloseTo(0.5, 1);
  });

  it("boosts models with few battles", () => {
    expect(drawWeight({ id: "new", battleWeight: 1, battles: 0 })).toBe(4);
    expect(drawWeight({ id: "mid", battleWeight: 1, battles: 50 })).toBe(2.5);
    expect(drawWeight({ id: "old", battleWeight: 1, battles: 100_000 })).toBeLessThan(1.01);
  });

  it("refuses with a typed error when fewer than two models are eligible", () => {
    expect(() => pickPair([{ id: "a", battleWeight: 1, battles: 0 }])).toThrow(NotEnoughModelsError);
    expect(() => pickPair([{ id: "a", battleWeight: 1, battles: 0 }, { id: "b", battleWeight: 0, battles: 0 }])).toThrow(/two eligible models/);
  });
});

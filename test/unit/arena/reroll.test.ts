import { describe, expect, it } from "vitest";
import { pickRerollModel, rerollRefusal } from "@/lib/arena/reroll";

const open = { battleStatus: "pending", voted: false, isLastTurn: true, stalled: false };

// A refusal is a catalogue key (its words are in lib/i18n, in both languages).
describe("rerollRefusal", () => {
  it("allows a side that failed for good, was cancelled, or stalled", () => {
    expect(rerollRefusal({ ...open, sideStatus: "failed" })).toBeNull();
    expect(rerollRefusal({ ...open, sideStatus: "cancelled" })).toBeNull();
    expect(rerollRefusal({ ...open, sideStatus: "running", stalled: true })).toBeNull();
    expect(rerollRefusal({ ...open, sideStatus: "queued", stalled: true })).toBeNull();
  });

  it("refuses an answer that is complete or still arriving", () => {
    expect(rerollRefusal({ ...open, sideStatus: "completed" })).toBe("rerollComplete");
    expect(rerollRefusal({ ...open, sideStatus: "running" })).toBe("rerollArriving");
    expect(rerollRefusal({ ...open, sideStatus: "queued" })).toBe("rerollArriving");
  });

  it("refuses after the vote, once abandoned, and on an earlier turn", () => {
    expect(rerollRefusal({ ...open, voted: true, sideStatus: "failed" })).toBe("battleVoted");
    expect(rerollRefusal({ ...open, battleStatus: "voted", sideStatus: "failed" })).toBe("battleVoted");
    expect(rerollRefusal({ ...open, battleStatus: "abandoned", sideStatus: "failed" })).toBe("rerollAbandoned");
    expect(rerollRefusal({ ...open, isLastTurn: false, sideStatus: "failed" })).toBe("rerollNotLast");
  });
});

describe("pickRerollModel", () => {
  const c = (id: string, battleWeight = 1) => ({ id, battleWeight, battles: 0 });

  it("never picks the rival and prefers a model other than the one that failed", () => {
    const pool = [c("failed"), c("rival"), c("x"), c("y")];
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) seen.add(pickRerollModel(pool, { failedId: "failed", rivalId: "rival" }, () => i / 50)!.id);
    expect(seen).toEqual(new Set(["x", "y"]));
  });

  it("draws by weight", () => {
    const pool = [c("failed"), c("rival"), c("light", 1), c("heavy", 3)];
    const picks = Array.from({ length: 100 }, (_, i) => pickRerollModel(pool, { failedId: "failed", rivalId: "rival" }, () => (i + 0.5) / 100)!.id);
    expect(picks.filter((id) => id === "heavy").length).toBe(75);
  });

  it("falls back to the failed model when it is the only other one, and to nothing when none is left", () => {
    expect(pickRerollModel([c("failed"), c("rival")], { failedId: "failed", rivalId: "rival" })!.id).toBe("failed");
    expect(pickRerollModel([c("rival"), c("off", 0)], { failedId: "failed", rivalId: "rival" })).toBeNull();
  });
});

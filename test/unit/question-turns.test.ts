import { describe, expect, it } from "vitest";
import { parseTurns, storedTurns, turnMessages, userTurnsOf } from "@/lib/question-turns";

describe("question turns", () => {
  it("parses a JSONL array or a CSV cell's JSON text, trimming each turn", () => {
    expect(parseTurns(["  a ", "b"], { maxChars: 10 })).toEqual({ turns: ["a", "b"], error: null });
    expect(parseTurns('["a","b, \\"c\\""]', { maxChars: 10 })).toEqual({ turns: ["a", 'b, "c"'], error: null });
    for (const absent of [undefined, null, ""]) expect(parseTurns(absent, { maxChars: 10 })).toEqual({ turns: null, error: null });
  });

  it("refuses what is not a list of non-empty strings within the limits", () => {
    expect(parseTurns("[a, b]", { maxChars: 10 }).error).toMatch(/JSON array of strings/);
    expect(parseTurns([], { maxChars: 10 }).error).toMatch(/non-empty array of strings/);
    expect(parseTurns([{ prompt: "a" }], { maxChars: 10 }).error).toMatch(/non-empty array of strings/);
    expect(parseTurns(["a", " "], { maxChars: 10 }).error).toMatch(/every turn must be a non-empty string/);
    expect(parseTurns(Array.from({ length: 9 }, () => "a"), { maxChars: 10 }).error).toMatch(/at most 8 turns/);
    expect(parseTurns(["a", "bbbbbbbbbbb"], { maxChars: 10 }).error).toBe("turn 2 is longer than 10 characters");
  });

  it("stores more than one turn only, and reads a question's turns back", () => {
    expect(storedTurns(["a"])).toBeNull();
    expect(storedTurns(["a", "b"])).toEqual(["a", "b"]);
    expect(userTurnsOf({ text: "a", turns: null })).toEqual(["a"]);
    expect(userTurnsOf({ text: "a", turns: ["a", "b"] })).toEqual(["a", "b"]);
  });

  it("asks a turn with every earlier user turn and the model's own answer to it", () => {
    expect(turnMessages(["u0", "u1", "u2"], ["a0", "a1", "a2"], 0)).toEqual([{ role: "user", content: "u0" }]);
    expect(turnMessages(["u0", "u1", "u2"], ["a0", "a1", "a2"], 2)).toEqual([
      { role: "user", content: "u0" }, { role: "assistant", content: "a0" },
      { role: "user", content: "u1" }, { role: "assistant", content: "a1" },
      { role: "user", content: "u2" },
    ]);
  });
});

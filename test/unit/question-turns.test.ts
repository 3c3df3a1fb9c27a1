import { describe, expect, it } from "vitest";
import { fill, messages } from "@/lib/i18n";
import { parseTurns, storedTurns, turnMessages, userTurnsOf } from "@/lib/question-turns";

describe("question turns", () => {
  it("parses a JSONL array or a CSV cell's JSON text, trimming each turn", () => {
    expect(parseTurns(["  a ", "b"], { maxChars: 10 })).toEqual({ turns: ["a", "b"], error: null });
    expect(parseTurns('["a","b, \\"c\\""]', { maxChars: 10 })).toEqual({ turns: ["a", 'b, "c"'], error: null });
    for (const absent of [undefined, null, ""]) expect(parseTurns(absent, { maxChars: 10 })).toEqual({ turns: null, error: null });
  });

  it("refuses what is not a list of non-empty strings within the limits", () => {
    // Each error is a key of the adminImportIssues catalogue section, with the values it names.
    expect(parseTurns("[a, b]", { maxChars: 10 }).error).toEqual({ key: "turnsNotJson" });
    expect(parseTurns([], { maxChars: 10 }).error).toEqual({ key: "turnsNotList" });
    expect(parseTurns([{ prompt: "a" }], { maxChars: 10 }).error).toEqual({ key: "turnsNotList" });
    expect(parseTurns(["a", " "], { maxChars: 10 }).error).toEqual({ key: "turnEmpty" });
    expect(parseTurns(Array.from({ length: 9 }, () => "a"), { maxChars: 10 }).error).toEqual({ key: "tooManyTurns", values: { max: 8 } });
    expect(parseTurns(["a", "bbbbbbbbbbb"], { maxChars: 10 }).error).toEqual({ key: "turnTooLong", values: { turn: 2, max: 10 } });
    expect(fill(messages("zh").adminImportIssues.turnTooLong, { turn: 2, max: 10 })).toBe("第 2 轮超过 10 个字符");
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

import { describe, expect, it } from "vitest";
import { MAX_REASON_CHARS, parseVerdict, type VerdictResult } from "@/lib/judge/verdict";

function verdictOf(result: VerdictResult): string {
  return "error" in result ? `error: ${result.error}` : result.verdict;
}

describe("parseVerdict pairwise", () => {
  const cases: [string, string, string][] = [
    ["plain A", "A explains the algorithm correctly.\n[[A]]", "A"],
    ["plain B", "B is more accurate.\n\n[[B]]", "B"],
    ["C is a tie", "Both are fine.\n[[C]]", "tie"],
    ["[[tie]]", "Equal quality.\n[[tie]]", "tie"],
    ["[[TIE]] upper case", "Equal.\n[[TIE]]", "tie"],
    ["[[draw]]", "Equal.\n[[draw]]", "tie"],
    ["lower-case a", "verdict: [[a]]", "A"],
    ["lower-case b", "[[b]]", "B"],
    ["reasoning mentions [[A]], final [[B]]", "One might answer [[A]] because A is longer, but length does not count.\nFinal verdict: [[B]]", "B"],
    ["bold markdown", "Reasoning.\n**[[A]]**", "A"],
    ["inline code", "Reasoning.\n`[[B]]`", "B"],
    ["code fence", "Reasoning.\n```\n[[B]]\n```", "B"],
    ["trailing punctuation", "Reasoning. Final verdict: [[A]].", "A"],
    ["emphasis inside", "[[**B**]]", "B"],
    ["spaces inside", "[[ A ]]", "A"],
    ["full-width brackets ［［Ａ］］", "A 的回答更准确。\n［［Ａ］］", "A"],
    ["lenticular brackets 【【B】】", "B 更全面。\n【【B】】", "B"],
    ["平局 in a marker", "两者相当。\n[[平局]]", "tie"],
    ["平手 in full-width marker", "两者相当。\n［［平手］］", "tie"],
    ["repeated same marker on the last line", "So: [[A]] — yes, [[A]]", "A"],
    ["text after the final marker", "Reasoning.\n[[B]]\nI hope this helps.", "B"],
    ["triple brackets", "[[[A]]]", "A"],
    ["full-width ideographic space and period", "理由。\n［［　Ｃ　］］。", "tie"],
  ];
  for (const [name, output, expected] of cases) {
    it(name, () => expect(verdictOf(parseVerdict("pairwise", output))).toBe(expected));
  }

  const errors: [string, string, RegExp][] = [
    ["empty output", "", /empty/],
    ["whitespace only", "  \n\t ", /empty/],
    ["no marker", "A is better than B.", /unparseable/],
    ["prose 'A更好' without a marker", "综合来看，A更好。", /unparseable/],
    ["prose 平局 without a marker", "两者平局。", /unparseable/],
    ["single brackets", "Verdict: [A]", /unparseable/],
    ["conflicting markers on the last line", "Hard to say.\n[[A]] or [[B]]", /conflicting/],
    ["conflict tie vs letter on the last line", "[[C]] / [[B]]", /conflicting/],
    ["malformed final marker", "Reasoning [[A]].\n[[A/B]]", /malformed/],
    ["unknown letter", "[[D]]", /malformed/],
    ["prose inside marker", "[[A更好]]", /malformed/],
    ["score marker in a pairwise output", "[[7, 9]]", /malformed/],
    ["marker split over lines", "[[\nA]]", /unparseable/],
  ];
  for (const [name, output, pattern] of errors) {
    it(`error: ${name}`, () => expect(verdictOf(parseVerdict("pairwise", output))).toMatch(pattern));
  }

  it("earlier lines may disagree; only the final line's markers are checked", () => {
    expect(verdictOf(parseVerdict("pairwise", "[[A]] [[B]]\nfinal [[C]]"))).toBe("tie");
  });

  it("the reason is the text before the final marker, without the marker", () => {
    const result = parseVerdict("pairwise", "B cites the right theorem.\nFinal verdict: **[[B]]**");
    expect(result).toEqual({ verdict: "B", reason: "B cites the right theorem.\nFinal verdict" });
  });

  it("a very long output keeps a reason of at most 500 characters", () => {
    const output = "理由".repeat(200_000) + "\n[[A]]";
    const result = parseVerdict("pairwise", output);
    if ("error" in result) throw new Error(result.error);
    expect(result.verdict).toBe("A");
    expect(Array.from(result.reason).length).toBeLessThanOrEqual(MAX_REASON_CHARS);
    expect(result.reason.endsWith("…")).toBe(true);
  });

  it("truncation does not split an astral character", () => {
    const result = parseVerdict("pairwise", "😀".repeat(600) + "[[B]]");
    if ("error" in result) throw new Error(result.error);
    expect(Array.from(result.reason)).toHaveLength(MAX_REASON_CHARS);
    expect(result.reason).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
  });

  it("a long run of brackets does not stall the scan", () => {
    // A scan that backtracks would run for minutes on this (the test times out); a linear one
    // answers at once. The time itself is not measured.
    expect(verdictOf(parseVerdict("pairwise", "[[".repeat(100_000)))).toMatch(/unparseable/);
  });
});

describe("parseVerdict score10", () => {
  const cases: [string, string, [number, number], string][] = [
    ["plain pair", "A: solid. B: better.\n[[7, 9]]", [7, 9], "B"],
    ["A wins", "[[9, 4]]", [9, 4], "A"],
    ["equal is a tie", "[[8, 8]]", [8, 8], "tie"],
    ["bounds 0 and 10", "[[0, 10]]", [0, 10], "B"],
    ["full-width digits and comma", "Ａ不错，Ｂ更好。\n［［７，９］］", [7, 9], "B"],
    ["Chinese comma", "[[6，5]]", [6, 5], "A"],
    ["enumeration comma", "【【6、6】】", [6, 6], "tie"],
    ["slash separator", "[[3/8]]", [3, 8], "B"],
    ["no space", "[[10,2]]", [10, 2], "A"],
    ["integer written with .0", "[[7.0, 8]]", [7, 8], "B"],
    ["bold with trailing period", "**[[5, 6]]**.", [5, 6], "B"],
    ["earlier pair in reasoning, last one wins", "At first I thought [[9, 2]].\nOn reflection:\n[[4, 7]]", [4, 7], "B"],
  ];
  for (const [name, output, scores, verdict] of cases) {
    it(name, () => {
      const result = parseVerdict("score10", output);
      if ("error" in result) throw new Error(result.error);
      expect(result.scores).toEqual(scores);
      expect(result.verdict).toBe(verdict);
    });
  }

  const errors: [string, string, RegExp][] = [
    ["above 10", "[[11, 3]]", /outside/],
    ["negative", "[[-1, 5]]", /outside/],
    ["unicode minus", "[[−1, 5]]", /outside/],
    ["decimal", "[[7.5, 8]]", /not an integer/],
    ["single score", "[[7]]", /single score/],
    ["letter marker in a score output", "[[A]]", /malformed/],
    ["three scores", "[[7, 8, 9]]", /malformed/],
    ["no marker", "A: 7 points, B: 9 points.", /unparseable/],
    ["empty", "", /empty/],
    ["conflicting pairs on the last line", "[[7, 9]] or maybe [[9, 7]]", /conflicting/],
    ["out of range final after a valid one", "[[7, 9]]\n[[7, 90]]", /outside/],
  ];
  for (const [name, output, pattern] of errors) {
    it(`error: ${name}`, () => expect(verdictOf(parseVerdict("score10", output))).toMatch(pattern));
  }
});

import { describe, expect, it } from "vitest";
import { answerStyle, duplicatePromptVotes, parseAnswerStyle, promptKey, sideStyle } from "@/lib/arena/answer-style";
import { computeLeaderboard, type RatedVote } from "@/lib/ratings";
import { repeat, styledVotes } from "../ratings/synthetic";

describe("answer style counts (FastChat's conv_metadata)", () => {
  it("counts headers, list items and bold outside code fences, and cl100k tokens of the whole text", () => {
    const text = "# Title\n## Sub\n####### seven is no header\n#no space\n\n1. one\n  2. two\n- dash\n* star\n+ plus\n-no space\n\n**bold** and __also__ but **not\nacross** lines\n\n```python\n# comment\n- item\n**x**\n```\n";
    expect(answerStyle(text)).toMatchObject({ headers: 2, lists: 5, bold: 2 });
    expect(answerStyle("hello world")).toEqual({ tokens: 2, headers: 0, lists: 0, bold: 0 });
    // Special-token text in an answer is counted as text, never refused.
    expect(answerStyle("<|endoftext|>").tokens).toBe(7);
    expect(answerStyle("").tokens).toBe(0);
  });

  it("sums a side's turns, and reads stored counts back only when well formed", () => {
    const turns = [answerStyle("# A\n- b"), answerStyle("**c**")];
    expect(sideStyle(turns)).toEqual([turns[0]!.tokens + turns[1]!.tokens, 1, 1, 1]);
    expect(parseAnswerStyle({ tokens: 3, headers: 0, lists: 1, bold: 0 })).toEqual({ tokens: 3, headers: 0, lists: 1, bold: 0 });
    expect(parseAnswerStyle({ tokens: -1, headers: 0, lists: 1, bold: 0 })).toBeNull();
    expect(parseAnswerStyle(null)).toBeNull();
  });
});

describe("prompt de-duplication", () => {
  it("one key for the same prompt however it is spaced, cased or composed", () => {
    expect(promptKey(["Tell me  a\tJOKE "])).toBe(promptKey(["tell me a joke"]));
    expect(promptKey(["ｔｅｌｌ me a joke"])).toBe(promptKey(["tell me a joke"])); // NFKC: full-width letters
    expect(promptKey(["tell me a joke", "another"])).not.toBe(promptKey(["tell me a joke"]));
  });

  it("keeps `threshold` votes per prompt, always the same ones, and never drops bank votes", () => {
    const votes = [
      ...Array.from({ length: 9 }, (_, i) => ({ id: `p-${i}`, promptKey: "p" })),
      ...Array.from({ length: 3 }, (_, i) => ({ id: `q-${i}`, promptKey: "q" })),
      ...Array.from({ length: 50 }, (_, i) => ({ id: `bank-${i}`, promptKey: null })),
    ];
    const excluded = duplicatePromptVotes(votes, 3);
    expect(excluded.size).toBe(6);
    expect([...excluded].every((id) => id.startsWith("p-"))).toBe(true);
    expect(duplicatePromptVotes([...votes].reverse(), 3)).toEqual(excluded);
    expect(duplicatePromptVotes(votes, 0).size).toBe(0);
  });

  it("asking a prompt past the threshold, with the same outcome, does not change the ratings", () => {
    const base = styledVotes({ votes: 600, strengths: [1000, 1080, 940], lengthEffect: 0.5 }).map((v, i) => ({ vote: v, id: `b-${i}`, promptKey: null as string | null }));
    const repeated = (count: number) =>
      repeat(count, { modelA: "m2", modelB: "m0", winner: "A", style: { a: [120, 0, 1, 0], b: [300, 2, 3, 1] } }).map((vote, i) => ({ vote, id: `r-${i}`, promptKey: "same prompt" }));
    const rate = (rows: { vote: RatedVote; id: string; promptKey: string | null }[]) => {
      const excluded = duplicatePromptVotes(rows, 20);
      return computeLeaderboard(rows.filter((r) => !excluded.has(r.id)).map((r) => r.vote), { bootstrapRounds: 20, styleControl: true });
    };
    const atThreshold = rate([...base, ...repeated(20)]);
    const flooded = rate([...base, ...repeated(400)]);
    expect(flooded.models).toEqual(atThreshold.models);
    expect(flooded.styleControl).toEqual(atThreshold.styleControl);
    // Without de-duplication the flood would move m2 up by a long way.
    const undeduplicated = computeLeaderboard([...base, ...repeated(400)].map((r) => r.vote), { bootstrapRounds: 0 });
    const m2 = (board: typeof atThreshold) => board.models.find((m) => m.model === "m2")!.bt;
    expect(m2(undeduplicated) - m2(atThreshold)).toBeGreaterThan(50);
  });
});

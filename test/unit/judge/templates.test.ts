import { describe, expect, it } from "vitest";
import {
  customTemplate,
  fillCustomTemplate,
  JudgeTemplateError,
  pairwise,
  score10,
  validateCustomTemplate,
  type JudgeInput,
} from "@/lib/judge/templates";
import { parseVerdict } from "@/lib/judge/verdict";

const single: JudgeInput = { question: "What is 2 + 2?", answerA: ["4"], answerB: ["5"], lang: "en" };
const multi: JudgeInput = {
  question: ["Name a prime.", "Now a larger one."],
  answerA: ["2", "3"],
  answerB: ["7", "11"],
  lang: "zh",
};

describe("built-in templates", () => {
  it("pairwise: system + user, question and both answers, fixed output format", () => {
    const messages = pairwise(single);
    expect(messages.map((m) => m.role)).toEqual(["system", "user"]);
    expect(messages[0]!.content).toMatch(/impartial/);
    expect(messages[0]!.content).toMatch(/\[\[A\]\].*\[\[B\]\].*\[\[C\]\]/);
    const user = messages[1]!.content;
    expect(user.indexOf("What is 2 + 2?")).toBeLessThan(user.indexOf("4"));
    expect(user.indexOf("\n4\n")).toBeLessThan(user.indexOf("\n5\n"));
  });

  it("score10 asks for [[a, b]] in the chosen language", () => {
    expect(score10(single)[0]!.content).toMatch(/\[\[7, 9\]\]/);
    const zh = score10({ ...single, lang: "zh" });
    expect(zh[0]!.content).toMatch(/0 到 10/);
    expect(zh[1]!.content).toMatch(/用户问题/);
  });

  it("multi-turn: every turn of each conversation appears, A's before B's", () => {
    const user = pairwise(multi)[1]!.content;
    for (const text of ["Name a prime.", "Now a larger one.", "用户第 2 轮", "助手 A 第 2 轮", "助手 B 第 1 轮"]) {
      expect(user).toContain(text);
    }
    expect(user.indexOf("助手 A 第 2 轮")).toBeLessThan(user.indexOf("助手 B 第 1 轮"));
  });

  it("rejects answer lists that do not match the turns", () => {
    expect(() => pairwise({ ...multi, answerB: ["7"] })).toThrow(JudgeTemplateError);
    expect(() => score10({ ...single, question: [] })).toThrow(/no turns/);
  });
});

describe("custom templates", () => {
  it("a valid template has no errors", () => {
    expect(validateCustomTemplate({ template: "Q: {question}\nA: {answer_a}\nB: {answer_b}\n({turns} turns)", kind: "pairwise" })).toEqual([]);
  });

  it("names every unknown and missing placeholder", () => {
    const errors = validateCustomTemplate({ template: "{question} {answer_c} {Answer_B} {answer_a}", kind: "score10" });
    expect(errors).toEqual(["unknown placeholder {answer_c}", "unknown placeholder {Answer_B}", "missing placeholder {answer_b}"]);
    expect(validateCustomTemplate({ template: "", kind: "pairwise" })).toEqual([
      "the template is empty",
      "missing placeholder {question}",
      "missing placeholder {answer_a}",
      "missing placeholder {answer_b}",
    ]);
  });

  it("compiling an invalid template throws with all problems", () => {
    expect(() => customTemplate({ template: "{question} {answer_a} {oops}", kind: "pairwise" })).toThrow(
      "unknown placeholder {oops}; missing placeholder {answer_b}",
    );
  });

  it("non-identifier braces stay literal; {{ and }} escape", () => {
    const text = fillCustomTemplate('{question}|{answer_a}|{answer_b}|{"k": 1}|{{question}}|{ x }', single);
    expect(text).toBe('What is 2 + 2?|4|5|{"k": 1}|{question}|{ x }');
  });

  it("substitution is single-pass: placeholders and $-patterns inside answers stay as written", () => {
    const input: JudgeInput = {
      question: "Say {answer_b}",
      answerA: ["{answer_b} and {question} and $& $1 {{x}}"],
      answerB: ["SECRET"],
      lang: "en",
    };
    const text = fillCustomTemplate("Q={question} A={answer_a} B={answer_b}", input);
    expect(text).toBe("Q=Say {answer_b} A={answer_b} and {question} and $& $1 {{x}} B=SECRET");
    expect(text.match(/SECRET/g)).toHaveLength(1);
  });

  it("multi-turn values are labelled per turn; {turns} is the count", () => {
    const text = fillCustomTemplate("{turns}\n{question}\n{answer_a}\n{answer_b}", { ...multi, lang: "en" });
    expect(text).toBe(
      "2\nUser turn 1:\nName a prime.\n\nUser turn 2:\nNow a larger one.\n" +
        "Assistant A, turn 1:\n2\n\nAssistant A, turn 2:\n3\n" +
        "Assistant B, turn 1:\n7\n\nAssistant B, turn 2:\n11",
    );
  });

  it("appends the declared kind's output format unless the template gives its own", () => {
    const plain = customTemplate({ template: "{question}\n{answer_a}\n{answer_b}", kind: "score10" })(single);
    expect(plain[0]!.content).toMatch(/0 to 10/);
    expect(plain[1]!.content).toMatch(/\[\[7, 9\]\]\.$/);
    const own = customTemplate({
      template: "{question}\n{answer_a}\n{answer_b}\nEnd with [[A]] or [[B]] or [[C]].",
      kind: "pairwise",
      system: "Be fair.",
    })(single);
    expect(own).toEqual([
      { role: "system", content: "Be fair." },
      { role: "user", content: "What is 2 + 2?\n4\n5\nEnd with [[A]] or [[B]] or [[C]]." },
    ]);
  });

  it("an answer in the requested format parses; echoing the format line with a verdict does not", () => {
    expect(parseVerdict("score10", "A is vague; B is precise.\n[[7, 9]]")).toMatchObject({ scores: [7, 9], verdict: "B" });
    const formatLine = score10(single)[1]!.content.split("\n").at(-1)!;
    expect(parseVerdict("score10", formatLine)).toHaveProperty("error");
    expect(pairwise({ ...single, lang: "zh" })[1]!.content.split("\n").at(-1)).toContain("[[C]]");
  });
});

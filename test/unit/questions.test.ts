import { describe, expect, it } from "vitest";
import { normaliseQuestionText, questionTextHash } from "@/lib/questions";
import { seedCategories, seedQuestions } from "@/prisma/seed-data/questions";

describe("question normalisation", () => {
  it("folds case, width, whitespace and trailing punctuation", () => {
    expect(normaliseQuestionText("  Hello   World？ ")).toBe("hello world");
    expect(normaliseQuestionText("ＡＢＣ　ｄｅｆ。")).toBe("abc def");
    expect(questionTextHash("什么是光合作用？")).toBe(questionTextHash("什么是光合作用"));
    expect(questionTextHash("a b")).not.toBe(questionTextHash("ab"));
  });

  it("the demo bank has ≥ 100 distinct questions over all 10 categories in Chinese and English", () => {
    expect(seedCategories).toHaveLength(10);
    expect(seedQuestions.length).toBeGreaterThanOrEqual(100);
    expect(new Set(seedQuestions.map((q) => questionTextHash(q.text))).size).toBe(seedQuestions.length);
    const slugs = new Set(seedCategories.map((c) => c.slug));
    for (const c of seedCategories) {
      const inCategory = seedQuestions.filter((q) => q.category === c.slug);
      expect(inCategory.length, c.slug).toBeGreaterThanOrEqual(5);
      expect(new Set(inCategory.map((q) => q.language)), c.slug).toEqual(new Set(["zh", "en"]));
    }
    for (const q of seedQuestions) expect(slugs.has(q.category)).toBe(true);
    expect(seedCategories.map((c) => c.nameZh)).toEqual([
      "知识问答", "开放式问答", "数值计算与推理", "诗词文学哲学", "音乐体育娱乐",
      "写信写文章", "文本翻译", "多轮交互", "代码编程", "伦理与拒答",
    ]);
  });
});

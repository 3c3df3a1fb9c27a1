import { describe, expect, it } from "vitest";
import { categoryAliasesSchema, categoryInputSchema } from "@/lib/admin/categories";
import { categoryResolver, unknownCategoryMessage } from "@/lib/admin/questions-import";
import { categoryKeyIndex, categoryNameKey, closestCategories, editDistance, mergeAliases, parseAliasText, type NamedCategory } from "@/lib/category-names";
import { seedCategories } from "@/prisma/seed-data/questions";

const categories: NamedCategory[] = seedCategories.map((c) => ({ ...c, id: `id-${c.slug}` }));

describe("category name keys", () => {
  it("fold case, width, white space and separators", () => {
    expect(categoryNameKey("  Knowledge   QA ")).toBe("knowledge qa");
    expect(categoryNameKey("ＫＮＯＷＬＥＤＧＥ　ＱＡ")).toBe("knowledge qa");
    for (const spelling of ["数值计算、推理", "数值计算 推理", "数值计算/推理", "数值计算 ／ 推理", "数值计算，推理", "数值计算,推理", "数值计算·推理", "数值计算 、 推理"]) {
      expect(categoryNameKey(spelling), spelling).toBe("数值计算 推理");
    }
    expect(categoryNameKey("Computation, Reasoning")).toBe(categoryNameKey("Computation / Reasoning"));
    expect(categoryNameKey("、/ ")).toBe("");
    // Other punctuation is part of the name.
    expect(categoryNameKey("Q&A")).not.toBe(categoryNameKey("QA"));
    expect(categoryNameKey("math-reasoning")).toBe("math-reasoning");
  });

  it("the resolver takes a slug, either name or any alias, however it is spelled", () => {
    const resolve = categoryResolver(categories);
    const cases: [string, string][] = [
      ["knowledge", "knowledge"], ["KNOWLEDGE", "knowledge"], ["知识问答", "knowledge"], ["knowledge q&a", "knowledge"], ["Knowledge QA", "knowledge"],
      ["数值计算、推理", "math-reasoning"], ["数值计算 推理", "math-reasoning"], ["数值计算/推理", "math-reasoning"], ["数值计算与推理", "math-reasoning"],
      ["诗词、文学、哲学", "poetry-literature-philosophy"], ["诗词，文学，哲学", "poetry-literature-philosophy"], ["Poetry, Literature, Philosophy", "poetry-literature-philosophy"],
      ["音乐、体育、娱乐", "music-sports-entertainment"], ["写信、写文章", "writing"], ["Letters and Articles", "writing"],
      ["伦理、拒答", "ethics-refusal"], ["ＥＴＨＩＣＳ", "ethics-refusal"], ["Computation, Reasoning", "math-reasoning"],
    ];
    for (const [value, slug] of cases) expect(resolve(value), value).toBe(`id-${slug}`);
    expect(resolve("no-such-category")).toBeNull();
    expect(resolve("数值计算")).toBeNull();
  });

  it("slugs win over names and names over aliases", () => {
    const clash: NamedCategory[] = [
      { id: "a", slug: "a", nameZh: "甲", nameEn: "Alpha", aliases: ["beta", "b"] },
      { id: "b", slug: "b", nameZh: "乙", nameEn: "Beta", aliases: [] },
    ];
    const index = categoryKeyIndex(clash);
    expect(index.get("beta")).toBe("b");
    expect(index.get("b")).toBe("b");
    expect(index.get("alpha")).toBe("a");
  });
});

describe("closest category names", () => {
  it("edit distance counts code points", () => {
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("", "abc")).toBe(3);
    expect(editDistance("数值计算", "数值推理")).toBe(2);
    expect(editDistance("same", "same")).toBe(0);
  });

  it("suggests the three nearest categories, shown by Chinese name and slug", () => {
    expect(closestCategories("knowlege", categories).map((c) => c.slug)[0]).toBe("knowledge");
    expect(closestCategories("数值计算", categories).map((c) => c.slug)[0]).toBe("math-reasoning");
    expect(closestCategories("Codng", categories).map((c) => c.slug)[0]).toBe("coding");
    expect(closestCategories("翻译", categories).map((c) => c.slug)[0]).toBe("translation");
    expect(closestCategories("anything", categories)).toHaveLength(3);
    expect(closestCategories("、", categories)).toEqual([]);
    expect(unknownCategoryMessage("数值计算", categories)).toMatch(/^unknown category "数值计算"; closest: 数值计算与推理 \(math-reasoning\), [^,]+ \([a-z-]+\), [^,]+ \([a-z-]+\)$/);
    expect(unknownCategoryMessage("x", [])).toBe('unknown category "x"');
    expect(unknownCategoryMessage("y".repeat(100_000), categories)).toContain("closest: ");
  });
});

describe("aliases input", () => {
  it("the admin form splits on commas and new lines", () => {
    expect(parseAliasText("数值计算、推理, Reasoning\n\n  Maths ，计算\r\n")).toEqual(["数值计算、推理", "Reasoning", "Maths", "计算"]);
    expect(parseAliasText("  ")).toEqual([]);
  });

  it("each 1 to 64 characters, at most 20, none repeated once normalised, no commas", () => {
    expect(categoryAliasesSchema.parse([" 数值计算、推理 ", "Reasoning"])).toEqual(["数值计算、推理", "Reasoning"]);
    expect(categoryAliasesSchema.safeParse([""]).success).toBe(false);
    expect(categoryAliasesSchema.safeParse(["x".repeat(65)]).success).toBe(false);
    expect(categoryAliasesSchema.safeParse(["x".repeat(64)]).success).toBe(true);
    expect(categoryAliasesSchema.safeParse(Array.from({ length: 21 }, (_, i) => `a${i}`)).success).toBe(false);
    expect(categoryAliasesSchema.safeParse(Array.from({ length: 20 }, (_, i) => `a${i}`)).success).toBe(true);
    expect(categoryAliasesSchema.safeParse(["数值计算、推理", "数值计算 / 推理"]).success).toBe(false);
    expect(categoryAliasesSchema.safeParse(["REASONING", "reasoning"]).success).toBe(false);
    expect(categoryAliasesSchema.safeParse(["a, b"]).success).toBe(false);
    expect(categoryAliasesSchema.safeParse(["、"]).success).toBe(false);
    const duplicate = categoryAliasesSchema.safeParse(["x", "X"]);
    expect(duplicate.success || duplicate.error.issues[0]?.path).toEqual([]);
  });

  it("an update without aliases leaves them out; a new category may have none", () => {
    expect(categoryInputSchema.parse({ slug: "s", nameZh: "名", nameEn: "Name" }).aliases).toBeUndefined();
    expect(categoryInputSchema.parse({ slug: "s", nameZh: "名", nameEn: "Name", aliases: [] }).aliases).toEqual([]);
  });

  it("the seed adds its aliases to an admin's own, each name once", () => {
    expect(mergeAliases(["Mine", "数值计算 推理"], ["数值计算、推理", "Computation / Reasoning"])).toEqual(["Mine", "数值计算 推理", "Computation / Reasoning"]);
    expect(mergeAliases([], ["a", "A"])).toEqual(["a"]);
  });

  it("every seeded alias passes the admin rules and names no other category", () => {
    for (const c of seedCategories) expect(categoryAliasesSchema.safeParse(c.aliases).success, c.slug).toBe(true);
    const index = categoryKeyIndex(categories);
    for (const c of categories) for (const alias of c.aliases) expect(index.get(categoryNameKey(alias)), alias).toBe(c.id);
  });
});

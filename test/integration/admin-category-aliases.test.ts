import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import type { Client } from "./support/http";
import { adminClient } from "./support/users";

// Categories by any of their names, through the real routes: the import takes the original
// arena's names (with "、"), English names, full-width and oddly spaced spellings; an unknown
// name is answered with the nearest ones; aliases an admin adds are matched at once.

type Report = { rows: number; errorCount: number; errors: { line: number; field: string; message: string }[]; toWrite: number; written: number; dryRun: boolean };

let admin: Client;
const run = randomBytes(4).toString("hex");
const created: string[] = [];
const csvRow = (...fields: string[]) => fields.map((f) => (/[",\n\r]/.test(f) ? `"${f.replace(/"/g, '""')}"` : f)).join(",") + "\n";

async function upload(body: string, { dryRun }: { dryRun: boolean }) {
  const res = await admin.fetch(`/api/admin/questions/import?format=csv&dryRun=${dryRun ? 1 : 0}`, { method: "POST", body });
  const json = (await res.json()) as { report?: Report; error?: { code: string; message: string; field?: string } };
  return { status: res.status, report: json.report!, error: json.error };
}

async function send(method: string, path: string, body?: unknown) {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are checked field by field
  return admin.json<Record<string, any>>(path, { method, headers: { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
}

async function slugOf(text: string): Promise<string> {
  const q = await db.question.findFirstOrThrow({ where: { text }, select: { category: { select: { slug: true } } } });
  return q.category.slug;
}

beforeAll(async () => {
  admin = await adminClient();
});

// Other suites share this database: leave the bank and the categories as they were.
afterAll(async () => {
  await db.question.deleteMany({ where: { text: { contains: `Alias ${run}` } } });
  if (created.length) await db.category.deleteMany({ where: { id: { in: created } } });
});

describe("question import: categories by any of their names", () => {
  it("matches the original names with 、, English names, full width and odd spacing", async () => {
    const spellings: [string, string][] = [
      ["知识问答", "knowledge"], ["开放式问答", "open-qa"], ["数值计算、推理", "math-reasoning"], ["诗词、文学、哲学", "poetry-literature-philosophy"],
      ["音乐、体育、娱乐", "music-sports-entertainment"], ["写信、写文章", "writing"], ["文本翻译", "translation"], ["多轮交互", "multi-turn"],
      ["代码编程", "coding"], ["伦理、拒答", "ethics-refusal"],
      ["Knowledge QA", "knowledge"], ["Computation, Reasoning", "math-reasoning"], ["Poetry, Literature, Philosophy", "poetry-literature-philosophy"],
      ["Letters and Articles", "writing"], ["ethics", "ethics-refusal"], ["MATH & REASONING", "math-reasoning"],
      ["ＣＯＤＩＮＧ", "coding"], ["Ｏｐｅｎ　ＱＡ", "open-qa"], ["数值计算　／　推理", "math-reasoning"], ["数值计算 推理", "math-reasoning"],
      ["数值计算/推理", "math-reasoning"], ["  音乐 ， 体育 ， 娱乐  ", "music-sports-entertainment"], ["诗词·文学·哲学", "poetry-literature-philosophy"],
      ["Multi-turn   Dialogue", "multi-turn"], ["math-reasoning", "math-reasoning"],
    ];
    const body = "text,category,language\n" + spellings.map(([name], i) => csvRow(`Alias ${run} spelling ${i}?`, name, "zh")).join("");
    const dry = await upload(body, { dryRun: true });
    expect(dry.status).toBe(200);
    expect(dry.report.errors).toEqual([]);
    expect(dry.report.toWrite).toBe(spellings.length);
    expect(await db.question.count({ where: { text: { contains: `Alias ${run}` } } })).toBe(0);

    const real = await upload(body, { dryRun: false });
    expect(real.status).toBe(201);
    expect(real.report.written).toBe(spellings.length);
    for (const [i, [name, slug]] of spellings.entries()) expect(await slugOf(`Alias ${run} spelling ${i}?`), name).toBe(slug);
  });

  it("an unknown category is refused with the closest names", async () => {
    const before = await db.question.count();
    const body = "text,category,language\n" + csvRow(`Alias ${run} ok?`, "knowledge", "en") + csvRow(`Alias ${run} unknown?`, "数值计算", "zh");
    const dry = await upload(body, { dryRun: true });
    expect(dry.report.errors).toEqual([{
      line: 3, field: "category", key: "unknownCategoryClosest", values: { name: "数值计算", closest: expect.stringMatching(/^数值计算与推理 \(math-reasoning\), /) },
      message: expect.stringMatching(/^unknown category "数值计算"; closest: 数值计算与推理 \(math-reasoning\), .+ \(.+\), .+ \(.+\)$/),
    }]);
    const real = await upload(body, { dryRun: false });
    expect(real.status).toBe(400);
    expect(real.error?.code).toBe("bad_request:import");
    expect(real.report.errors[0]?.message).toContain("closest: 数值计算与推理 (math-reasoning)");
    expect(await db.question.count()).toBe(before);
    const typo = await upload("text,category,language\n" + csvRow(`Alias ${run} typo?`, "Codng", "en"), { dryRun: true });
    expect(typo.report.errors[0]?.message).toMatch(/^unknown category "Codng"; closest: 代码编程 \(coding\)/);
  });
});

describe("category aliases in the admin", () => {
  it("an admin reads and edits aliases, and the import takes the new one at once", async () => {
    const list = await send("GET", "/api/admin/categories");
    const math = (list.body.categories as { id: string; slug: string; nameZh: string; nameEn: string; sortOrder: number; aliases: string[] }[]).find((c) => c.slug === "math-reasoning")!;
    expect(math.aliases).toContain("数值计算、推理");

    const slug = `alias-${run}`;
    const made = await send("POST", "/api/admin/categories", { slug, nameZh: `别名测试${run}`, nameEn: `Alias test ${run}`, aliases: [`旧名${run}`] });
    expect(made.status).toBe(201);
    created.push(made.body.category.id);
    expect(made.body.category.aliases).toEqual([`旧名${run}`]);

    const alias = `Quiz Bowl ${run}`;
    const edited = await send("PUT", `/api/admin/categories/${made.body.category.id}`, { slug, nameZh: `别名测试${run}`, nameEn: `Alias test ${run}`, sortOrder: 50, aliases: [`旧名${run}`, alias, `问答、竞赛${run}`] });
    expect(edited.status).toBe(200);
    expect(edited.body.category.aliases).toEqual([`旧名${run}`, alias, `问答、竞赛${run}`]);
    // An update that leaves aliases out keeps them.
    const renamed = await send("PUT", `/api/admin/categories/${made.body.category.id}`, { slug, nameZh: `别名测试${run}`, nameEn: `Alias test ${run} renamed`, sortOrder: 50 });
    expect(renamed.body.category.aliases).toHaveLength(3);
    const audit = await db.auditLog.findFirst({ where: { action: "category.update", targetId: made.body.category.id }, orderBy: { createdAt: "asc" } });
    expect(audit?.after).toMatchObject({ aliases: [`旧名${run}`, alias, `问答、竞赛${run}`] });

    const body = "text,category,language\n" + csvRow(`Alias ${run} new alias?`, alias.toUpperCase(), "en") + csvRow(`Alias ${run} new alias 2?`, `问答 / 竞赛${run}`, "zh");
    const real = await upload(body, { dryRun: false });
    expect(real.status).toBe(201);
    expect(real.report.written).toBe(2);
    expect(await slugOf(`Alias ${run} new alias?`)).toBe(slug);
    expect(await slugOf(`Alias ${run} new alias 2?`)).toBe(slug);

    // The page shows them in its form.
    const page = await admin.fetch("/admin/categories");
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(alias);
  });

  it("an alias another category answers to, a repeated one or a bad one is refused naming aliases", async () => {
    const slug = `alias-clash-${run}`;
    const base = { slug, nameZh: `冲突${run}`, nameEn: `Clash ${run}`, sortOrder: 60 };
    const made = await send("POST", "/api/admin/categories", base);
    expect(made.status).toBe(201);
    created.push(made.body.category.id);
    const id = made.body.category.id as string;

    for (const taken of ["数值计算 / 推理", "ＫＮＯＷＬＥＤＧＥ", "代码编程", "Math & Reasoning", "knowledge qa"]) {
      const res = await send("PUT", `/api/admin/categories/${id}`, { ...base, aliases: ["fine", taken] });
      expect(res.status, taken).toBe(409);
      expect(res.body.error).toMatchObject({ code: "conflict:category_alias", field: "aliases" });
    }
    const onCreate = await send("POST", "/api/admin/categories", { slug: `${slug}-2`, nameZh: "二", nameEn: "Two", aliases: ["伦理、拒答"] });
    expect(onCreate.status).toBe(409);
    expect(onCreate.body.error.message).toContain("伦理与拒答 (ethics-refusal)");
    expect(await db.category.count({ where: { slug: `${slug}-2` } })).toBe(0);

    const repeated = await send("PUT", `/api/admin/categories/${id}`, { ...base, aliases: ["Same Thing", "same  thing"] });
    expect(repeated.status).toBe(400);
    expect(repeated.body.error.field).toBe("aliases");
    const tooMany = await send("PUT", `/api/admin/categories/${id}`, { ...base, aliases: Array.from({ length: 21 }, (_, i) => `a${run}${i}`) });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.field).toBe("aliases");
    const tooLong = await send("PUT", `/api/admin/categories/${id}`, { ...base, aliases: ["x".repeat(65)] });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error.field).toMatch(/^aliases/);

    // Its own names are no conflict.
    const own = await send("PUT", `/api/admin/categories/${id}`, { ...base, aliases: [`冲突${run}`, slug] });
    expect(own.status).toBe(200);
    expect((await db.category.findUniqueOrThrow({ where: { id } })).aliases).toEqual([`冲突${run}`, slug]);
  });
});

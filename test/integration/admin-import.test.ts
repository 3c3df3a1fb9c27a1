import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import type { Client } from "./support/http";
import { adminClient } from "./support/users";

// Bulk import through the real route: every malformed file is rejected whole, with the line
// and field of each problem, and writes nothing.

type Report = { rows: number; errorCount: number; errors: { line: number; field: string; message: string }[]; duplicateCount: number;
  duplicates: { line: number; of: string; firstLine?: number }[]; toWrite: number; written: number; ms: number; dryRun: boolean };

let admin: Client;
const run = randomBytes(4).toString("hex");
const csvRow = (...fields: string[]) => fields.map((f) => (/[",\n\r]/.test(f) ? `"${f.replace(/"/g, '""')}"` : f)).join(",") + "\n";
const rows = (n: number, tag: string) =>
  Array.from({ length: n }, (_, i) => csvRow(`Import ${run} ${tag} question number ${i}: why?`, "knowledge", "en")).join("");

async function upload(body: BodyInit, { format = "csv", dryRun }: { format?: string; dryRun: boolean }) {
  const res = await admin.fetch(`/api/admin/questions/import?format=${format}&dryRun=${dryRun ? 1 : 0}`, { method: "POST", body });
  const json = (await res.json()) as { report?: Report; error?: { code: string; message: string; field?: string } };
  return { status: res.status, report: json.report!, error: json.error };
}

async function expectRejectedWhole(body: BodyInit, format = "csv"): Promise<Report> {
  const before = await db.question.count();
  const dry = await upload(body, { format, dryRun: true });
  expect(dry.status).toBe(200);
  expect(dry.report.errorCount).toBeGreaterThan(0);
  const real = await upload(body, { format, dryRun: false });
  expect(real.status).toBe(400);
  expect(real.error?.code).toBe("bad_request:import");
  expect(real.report.written).toBe(0);
  expect(await db.question.count()).toBe(before);
  return real.report;
}

beforeAll(async () => {
  admin = await adminClient();
});

// Other suites share this database: leave the bank as it was.
afterAll(async () => {
  await db.question.deleteMany({ where: { OR: [{ text: { contains: `Import ${run}` } }, { externalId: { startsWith: `ext-${run}` } }] } });
});

describe("question import: malformed files are rejected whole", () => {
  it("bad UTF-8 names the line", async () => {
    const head = Buffer.from("text,category,language\n" + rows(2, "utf8"));
    const bad = Buffer.concat([head, Buffer.from([0x62, 0x61, 0x64, 0xff, 0xfe, 0x2c]), Buffer.from("knowledge,en\n"), Buffer.from(rows(2, "utf8b"))]);
    const report = await expectRejectedWhole(bad);
    expect(report.errors).toEqual([expect.objectContaining({ line: 4, field: "encoding" })]);
  });

  it("missing columns are named", async () => {
    const report = await expectRejectedWhole("text,language\n" + `hello ${run},en\n`);
    expect(report.errors).toEqual([expect.objectContaining({ line: 1, field: "category" })]);
  });

  it("a file with no questions says so, in either format, whatever it has besides (a header, blank lines)", async () => {
    for (const [body, format] of [["text,category,language\n", "csv"], ["\n\n", "jsonl"], ["", "csv"]] as const) {
      const report = await expectRejectedWhole(body, format);
      const expected = body === "" ? { field: "header", message: "the file is empty" } : { field: "file", message: "the file has no questions" };
      expect(report.errors, JSON.stringify(body)).toEqual([expect.objectContaining({ line: 1, ...expected })]);
    }
  });

  it("a JSONL file sent as CSV is named by its quoting problems, not called empty", async () => {
    const jsonl = `{"text":"Quoted ${run} \\"x\\" here","category":"knowledge","language":"en"}\n`.repeat(3);
    const report = await expectRejectedWhole(jsonl, "csv");
    expect(report.errors.map((e) => e.message)).not.toContain("the file is empty");
  });

  it("an unknown category names its line", async () => {
    const body = "text,category,language\n" + rows(3, "cat") + csvRow(`Unknown category ${run}`, "no-such-category", "en") + rows(1, "cat2");
    const report = await expectRejectedWhole(body);
    expect(report.errors).toEqual([expect.objectContaining({ line: 5, field: "category", message: expect.stringContaining("no-such-category") })]);
  });

  it("a 1 MB line is refused", async () => {
    const body = "text,category,language\n" + rows(2, "big") + csvRow("x".repeat(1024 * 1024), "knowledge", "en");
    const report = await expectRejectedWhole(body);
    expect(report.errors.map((e) => e.line)).toContain(4);
  });

  it("20,000 rows with one bad row write nothing and point at that row", async () => {
    const lines = Array.from({ length: 20_000 }, (_, i) =>
      csvRow(`Import ${run} twenty-k ${i}?`, "knowledge", i === 12_345 ? "" : "zh"));
    const report = await expectRejectedWhole("text,category,language\n" + lines.join(""));
    expect(report.rows).toBe(20_000);
    expect(report.errors).toEqual([{ line: 12_347, field: "language", message: "language is required", key: "languageRequired", values: {} }]);
  });

  it("JSONL: bad JSON, missing fields and bad types are reported per line", async () => {
    const body = [
      JSON.stringify({ text: `jsonl ok ${run}`, category: "knowledge", language: "en" }),
      "{not json",
      JSON.stringify({ text: `jsonl no language ${run}`, category: "知识问答" }),
      JSON.stringify({ text: `jsonl tags ${run}`, category: "Knowledge Q&A", language: "en", tags: 5 }),
    ].join("\n");
    const report = await expectRejectedWhole(body, "jsonl");
    expect(report.errors.map((e) => [e.line, e.field])).toEqual([[2, "line"], [3, "language"], [4, "tags"]]);
  });

  it("an upload over 20 MB is refused with a clear error", async () => {
    const res = await upload(new Uint8Array(21 * 1024 * 1024).fill(0x61), { dryRun: true });
    expect(res.status).toBe(400);
    expect(res.error).toMatchObject({ code: "bad_request:upload_too_large", field: "file" });
    expect(res.error?.message).toMatch(/20 MB/);
  });
});

describe("question import: good files", () => {
  it("reports duplicates in the file and against the bank in the dry run, then skips them", async () => {
    const existing = await db.question.findFirstOrThrow({ select: { text: true } });
    const body = "\uFEFFid,text,category,language,tags\n" +
      csvRow(`ext-${run}-1`, `Dup ${run}, with "quotes"\nand a newline`, "knowledge", "en", "a|b") +
      csvRow(`ext-${run}-2`, `dup ${run}, WITH "quotes" and a newline?`, "knowledge", "en", "") +
      csvRow(`ext-${run}-3`, existing.text, "开放式问答", "zh", "");
    const dry = await upload(body, { dryRun: true });
    expect(dry.report.errorCount).toBe(0);
    expect(dry.report.duplicates).toEqual([
      expect.objectContaining({ line: 4, of: "file", firstLine: 2 }),
      expect.objectContaining({ line: 5, of: "bank" }),
    ]);
    expect(dry.report.toWrite).toBe(1);
    const real = await upload(body, { dryRun: false });
    expect(real.status).toBe(201);
    expect(real.report.written).toBe(1);
    const q = await db.question.findUniqueOrThrow({ where: { externalId: `ext-${run}-1` } });
    expect(q.text).toBe(`Dup ${run}, with "quotes"\nand a newline`);
    expect(q.tags).toEqual(["a", "b"]);
  });

  it("imports 10,000 rows in one transaction, with an audit entry, and exports them back", async () => {
    const before = await db.question.count();
    const body = "text,category,language\n" + rows(10_000, "ten-k");
    const real = await upload(body, { dryRun: false });
    expect(real.status).toBe(201);
    expect(real.report.written).toBe(10_000);
    expect(await db.question.count()).toBe(before + 10_000);
    console.log(`10,000-row import: ${real.report.ms} ms (check + one transaction)`);
    const audit = await db.auditLog.findFirst({ where: { action: "question.import" }, orderBy: { createdAt: "desc" } });
    expect(audit?.after).toMatchObject({ written: 10_000 });

    const exported = await admin.fetch("/api/admin/questions/export?format=jsonl");
    expect(exported.headers.get("content-disposition")).toMatch(/\.jsonl"/);
    const text = await exported.text();
    expect(text.split("\n").filter(Boolean)).toHaveLength(before + 10_000);
    const csv = await (await admin.fetch("/api/admin/questions/export?format=csv")).text();
    expect(csv).toContain(`Import ${run} ten-k question number 9999: why?`);
  });
});

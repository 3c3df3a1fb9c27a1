import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { answersInPlay, MAX_ANSWER_CHARS } from "@/lib/admin/answers-import";
import { computeAndStoreRatingRun } from "@/lib/arena/ratings-job";
import { db } from "@/lib/db";
import { fill, messages } from "@/lib/i18n";
import { questionTextHash } from "@/lib/questions";
import { isolatedModels, uniq } from "./support/arena";
import { speak } from "./support/arena-settings";
import { Client } from "./support/http";
import { adminClient, voterClient } from "./support/users";

// Offline models (issue 26, point 1): answer sets imported for bank questions of this file's own
// category, dry run reporting planted errors by line, commits as versions, bank battles between
// offline and served models, a vote rated, never a live answer, re-import keeping old battles'
// texts, and export → import → export giving the same bytes.

const QUESTIONS = 100;
const tag = uniq("offline");
type Report = {
  rows: number; matched: number; newQuestions: number; unmatchedCount: number; duplicateCount: number; errorCount: number; toWrite: number; written: number;
  errors: { line: number; field: string; message: string }[];
  answerSet: { id: string; version: number } | null;
};
type Question = { id: string; text: string; externalId: string | null };

let admin: Client;
let served: { id: string; slug: string };
let offlineA: { id: string; slug: string };
let offlineB: { id: string; slug: string };
let category: { id: string; slug: string };
let questions: Question[];

const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join("\n") + "\n";
const post = (body: unknown): RequestInit => ({ method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

async function importFile(client: Client, modelId: string, body: string, query: string) {
  return client.json<{ report: Report; error?: { code: string; message: string } }>(`/api/admin/models/${modelId}/answers?${query}`, { method: "POST", body });
}

async function createOffline(slug: string) {
  const res = await admin.json<{ model: { id: string; slug: string; kind: string; status: string } }>(
    "/api/admin/models",
    post({ kind: "offline", slug, displayName: `Offline ${slug}`, organisation: "Offline test org" }),
  );
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  expect(res.body.model).toMatchObject({ kind: "offline", status: "active" });
  return res.body.model;
}

/** Bank battles in the category, each from a fresh anonymous voter, until `enough` says stop. */
async function bankBattles(count: number) {
  const out: { id: string; client: Client; modelAId: string; modelBId: string }[] = [];
  for (let i = 0; i < count; i++) {
    const client = new Client();
    const res = await client.json<{ id: string; error?: { message: string } }>("/api/battles", post({ mode: "bank", categoryId: category.id }));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const battle = await db.battle.findUniqueOrThrow({ where: { id: res.body.id } });
    out.push({ id: battle.id, client, modelAId: battle.modelAId, modelBId: battle.modelBId });
  }
  return out;
}

beforeAll(async () => {
  admin = await adminClient();
  [served] = await isolatedModels(1, ["Served Test Model"]);
  category = await db.category.create({ data: { slug: tag, nameZh: `离线 ${tag}`, nameEn: `Offline ${tag}`, sortOrder: 950 } });
  questions = [];
  for (let i = 0; i < QUESTIONS; i++) {
    const text = `Offline question ${i} of ${tag}: what is ${i} squared?`;
    questions.push(await db.question.create({
      data: { text, textHash: questionTextHash(text), categoryId: category.id, language: "en", externalId: i % 2 ? `${tag}-ext-${i}` : null, createdAt: new Date(Date.UTC(2020, 0, 1, 0, 0, i)) },
      select: { id: true, text: true, externalId: true },
    }));
  }
  const finishedAt = new Date();
  await db.generation.createMany({
    data: questions.map((q, i) => ({
      modelId: served!.id, questionId: q.id, purpose: "pregen" as const, status: "completed" as const,
      messages: [{ role: "user", content: q.text }], text: `served answer ${i}: ${i * i}, "quoted", comma, and\na second line`, finishedAt,
    })),
  });
  offlineA = await createOffline(uniq("off-a"));
  offlineB = await createOffline(uniq("off-b"));
});

afterAll(async () => {
  await db.model.updateMany({ where: { id: { in: [served?.id, offlineA?.id, offlineB?.id].filter((x): x is string => !!x) } }, data: { status: "disabled" } });
});

describe("offline models: answer sets", () => {
  it("is for admins only: anonymous 401, a voter 403", async () => {
    const body = jsonl([{ question_id: questions[0]!.id, answer: "x" }]);
    expect((await new Client().fetch(`/api/admin/models/${offlineA.id}/answers?dryRun=1`, { method: "POST", body })).status).toBe(401);
    const voter = await voterClient();
    expect((await voter.fetch(`/api/admin/models/${offlineA.id}/answers?dryRun=1`, { method: "POST", body })).status).toBe(403);
    expect((await voter.fetch(`/api/admin/models/${offlineA.id}/answers?format=jsonl`)).status).toBe(403);
    expect((await new Client().fetch(`/api/admin/models/${offlineA.id}/answers?format=jsonl`)).status).toBe(401);
  });

  it("refuses pre-generation and engine settings for an offline model", async () => {
    const pregen = await admin.json<{ error: { code: string; message: string; key?: string } }>("/api/admin/pregen", post({ modelIds: [offlineA.id], scope: "category", categoryId: category.id }));
    expect(pregen.status).toBe(409);
    expect(pregen.body.error).toMatchObject({ code: "conflict:pregen", key: "pregenOfflineModel" });
    expect(pregen.body.error.message).toContain(offlineA.slug);
    const withEngine = await admin.json<{ error: { field?: string } }>("/api/admin/models", post({ kind: "offline", slug: uniq("off-bad"), displayName: "Bad", engine: { baseUrl: "http://x" } }));
    expect(withEngine.status).toBe(400);
  });

  it("dry run reports planted errors by line and writes nothing", async () => {
    const rows: unknown[] = [
      { question_id: questions[0]!.externalId ?? questions[0]!.id, answer: "ok 0" }, // line 1
      { question: `  ${questions[1]!.text.toUpperCase()}  `, category: category.slug, answer: "ok 1" }, // 2: matched by text
      { question: `A question nobody asked ${tag}`, answer: "unmatched" }, // 3
      { question_id: questions[2]!.id, category: "mathh reasonin", answer: "bad category" }, // 4
      { question_id: questions[0]!.externalId ?? questions[0]!.id, answer: "dup" }, // 5
      { question_id: questions[3]!.id, answer: "   " }, // 6
      { question_id: questions[4]!.id, answer: "two turns", turns: [{ prompt: "a" }] }, // 7
    ];
    const body = jsonl(rows) + "{not json\n"; // 8
    const res = await importFile(admin, offlineA.id, body, "dryRun=1&format=jsonl");
    expect(res.status).toBe(200);
    const r = res.body.report;
    expect(r).toMatchObject({ rows: 7, matched: 2, newQuestions: 0, unmatchedCount: 1, duplicateCount: 1, toWrite: 0, written: 0, answerSet: null });
    const at = (line: number) => r.errors.filter((e) => e.line === line);
    expect(at(1)).toEqual([]);
    expect(at(2)).toEqual([]);
    // Each problem names its catalogue text (the admin page says it in its language) beside the English.
    expect(at(3)[0]).toMatchObject({ field: "question", key: "unmatchedQuestion" });
    expect(at(3)[0]!.message).toMatch(/no question in the bank matches/);
    expect(at(4)[0]).toMatchObject({ field: "category", key: "unknownCategoryClosest", values: { name: "mathh reasonin" } });
    expect(at(4)[0]!.message).toMatch(/unknown category "mathh reasonin"; closest: .*math-reasoning/);
    expect(at(5)[0]).toMatchObject({ key: "sameQuestion", values: { line: 1 }, message: "the same question as line 1: one answer per question" });
    expect(at(6)[0]).toMatchObject({ field: "answer", key: "answerRequired" });
    expect(at(7)[0]).toMatchObject({ field: "turns", key: "turnsNotList", message: "turns must be a non-empty array of strings" });
    expect(at(8)[0]).toMatchObject({ field: "line", key: "notJson", message: "not valid JSON" });
    expect(r.errorCount).toBe(6);
    expect(await db.answerSet.count({ where: { modelId: offlineA.id } })).toBe(0);

    // A commit of that file is refused whole.
    const commit = await importFile(admin, offlineA.id, body, "format=jsonl");
    expect(commit.status).toBe(400);
    expect(commit.body.error).toMatchObject({ code: "bad_request:answers", key: "importRefused", values: { n: 6 } });

    // A source that is no JSON object is refused beside its field, in the reader's language.
    for (const lang of ["zh", "en"] as const) {
      const reader = speak(await adminClient(), lang);
      const refused = await reader.json<{ error: { field?: string; fields?: Record<string, string> } }>(
        `/api/admin/models/${offlineA.id}/answers?dryRun=1&source=${encodeURIComponent("[1]")}`, { method: "POST", body: jsonl([{ question_id: "x", answer: "y" }]) });
      expect(refused.status).toBe(400);
      expect(refused.body.error).toMatchObject({ field: "source", fields: { source: messages(lang).formErrors.sourceJson } });
    }
    expect(await db.generation.count({ where: { modelId: offlineA.id } })).toBe(0);

    // An unknown question with createQuestions=1 needs a category; with one it would be new.
    const create = await importFile(admin, offlineA.id, jsonl([
      { question: `New question one ${tag}`, answer: "a" },
      { question: `New question two ${tag}`, category: `Offline ${tag}`, answer: "b" },
    ]), "dryRun=1&createQuestions=1");
    expect(create.body.report).toMatchObject({ newQuestions: 1, unmatchedCount: 1, errorCount: 1 });
    expect(create.body.report.errors[0]).toMatchObject({ line: 1, field: "category" });
  });

  it("takes an answer at its limit however the file spells it; one character more is refused on the answer", async () => {
    const long = "长".repeat(MAX_ANSWER_CHARS);
    // JSON may escape every CJK character as \uXXXX: six characters on the line for each.
    const escaped = (row: object) => JSON.stringify(row).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
    const body = `${escaped({ question_id: questions[5]!.id, answer: long })}\n${escaped({ question_id: questions[6]!.id, answer: `${long}长` })}\n`;
    expect(body.length).toBeGreaterThan(6 * MAX_ANSWER_CHARS);
    const r = (await importFile(admin, offlineA.id, body, "dryRun=1&format=jsonl")).body.report;
    expect(r.errors).toEqual([expect.objectContaining({ line: 2, field: "answer", key: "answerTooLong", values: { max: MAX_ANSWER_CHARS } })]);
    expect(r.errorCount).toBe(1);
  });

  it("commits two offline models' answer sets (JSONL and CSV) as version 1", async () => {
    const source = JSON.stringify({ engine: "llama.cpp", quantisation: "q4_0", temperature: 0.2 });
    const a = await importFile(admin, offlineA.id, jsonl(questions.map((q, i) => ({ question_id: q.externalId ?? q.id, category: category.slug, answer: `A v1 answer ${i}`, metadata: { seed: i } }))),
      `format=jsonl&source=${encodeURIComponent(source)}`);
    expect(a.status, JSON.stringify(a.body)).toBe(201);
    expect(a.body.report).toMatchObject({ matched: QUESTIONS, written: QUESTIONS, errorCount: 0, answerSet: { version: 1 } });
    const csv = "question,category,answer\r\n" + questions.map((q, i) => `"${q.text}",${category.slug},B v1 answer ${i}\r\n`).join("");
    const dry = await importFile(admin, offlineB.id, csv, "format=csv&dryRun=1");
    expect(dry.body.report).toMatchObject({ matched: QUESTIONS, toWrite: QUESTIONS, errorCount: 0 });
    const b = await importFile(admin, offlineB.id, csv, "format=csv");
    expect(b.status, JSON.stringify(b.body)).toBe(201);
    expect(b.body.report).toMatchObject({ written: QUESTIONS, answerSet: { version: 1 } });
    const set = await db.answerSet.findFirstOrThrow({ where: { modelId: offlineA.id } });
    expect(set).toMatchObject({ version: 1, rowCount: QUESTIONS, source: { engine: "llama.cpp", quantisation: "q4_0", temperature: 0.2 } });

    // The model page says where the answers came from; the admin page lists the version.
    const page = await (await new Client().fetch(`/models/${offlineA.slug}`)).text();
    expect(page).toContain("model-answer-source");
    expect(page).toContain("llama.cpp");
    const adminPage = await (await admin.fetch(`/admin/models/${offlineA.id}`)).text();
    expect(adminPage).toContain("answer-set-row");
  });

  let firstBattle: { id: string; client: Client; side: "A" | "B"; text: string } | null = null;

  it("serves offline-vs-offline and offline-vs-served bank battles, and a vote reaches the ratings", async () => {
    const battles = await bankBattles(30);
    const offline = new Set([offlineA.id, offlineB.id]);
    const kinds = battles.map((b) => [b.modelAId, b.modelBId].filter((m) => offline.has(m)).length);
    expect(kinds).toContain(2); // offline vs offline
    expect(kinds).toContain(1); // offline vs served
    const both = battles.find((b) => offline.has(b.modelAId) && offline.has(b.modelBId))!;
    const view = await both.client.json<{ turns: { sides: Record<"A" | "B", { text: string }> }[] }>(`/api/battles/${both.id}`);
    expect(view.status).toBe(200);
    const sideOfA: "A" | "B" = both.modelAId === offlineA.id ? "A" : "B";
    expect(view.body.turns[0]!.sides[sideOfA].text).toMatch(/^A v1 answer \d+$/);
    firstBattle = { id: both.id, client: both.client, side: sideOfA, text: view.body.turns[0]!.sides[sideOfA].text };

    const voted = await both.client.json<{ rated: boolean; error?: unknown }>(`/api/battles/${both.id}/vote`, post({ winner: "A" }));
    expect(voted.status, JSON.stringify(voted.body)).toBe(200);
    await computeAndStoreRatingRun({ bootstrapRounds: 0 });
    const run = await db.ratingRun.findFirstOrThrow({ orderBy: { version: "desc" } });
    expect(JSON.stringify(run)).toContain(offlineA.id);
    expect(JSON.stringify(run)).toContain(offlineB.id);
  });

  it("never answers a prompt: live battles never draw it, named battles with a prompt refuse it", async () => {
    const named = await speak(new Client(), "en").json<{ error: { code: string; field?: string; message: string } }>(
      "/api/battles", post({ mode: "named", modelA: offlineA.slug, modelB: served.slug, prompt: "Hello there" }),
    );
    expect(named.status).toBe(400);
    expect(named.body.error.message).toMatch(/offline model/);
    for (let i = 0; i < 5; i++) await new Client().fetch("/api/battles", post({ mode: "live", prompt: `Live prompt ${i} ${tag}` }));
    expect(await db.generation.count({ where: { modelId: { in: [offlineA.id, offlineB.id] }, purpose: { not: "pregen" } } })).toBe(0);
    expect(await db.battle.count({ where: { mode: { not: "bank" }, OR: [{ modelAId: { in: [offlineA.id, offlineB.id] } }, { modelBId: { in: [offlineA.id, offlineB.id] } }] } })).toBe(0);
  });

  it("re-import is a new version: bank battles serve the new texts, an existing battle keeps the old one", async () => {
    const res = await importFile(admin, offlineA.id, jsonl(questions.map((q, i) => ({ question_id: q.externalId ?? q.id, answer: `A v2 answer ${i}` }))), "format=jsonl");
    expect(res.status).toBe(201);
    expect(res.body.report.answerSet?.version).toBe(2);
    const old = await firstBattle!.client.json<{ turns: { sides: Record<"A" | "B", { text: string }> }[] }>(`/api/battles/${firstBattle!.id}`);
    expect(old.body.turns[0]!.sides[firstBattle!.side].text).toBe(firstBattle!.text);
    const battles = await bankBattles(12);
    const withA = battles.filter((b) => b.modelAId === offlineA.id || b.modelBId === offlineA.id);
    expect(withA.length).toBeGreaterThan(0);
    for (const b of withA) {
      const view = await b.client.json<{ turns: { sides: Record<"A" | "B", { text: string }> }[] }>(`/api/battles/${b.id}`);
      expect(view.body.turns[0]!.sides[b.modelAId === offlineA.id ? "A" : "B"].text).toMatch(/^A v2 answer \d+$/);
    }
    const adminPage = await (await admin.fetch(`/admin/models/${offlineA.id}`)).text();
    expect(adminPage.match(/data-testid="answer-set-row"/g)).toHaveLength(2);
  });

  it("refuses a row whose question_id and question text name different bank questions, in the dry run and the commit", async () => {
    const idOf = (q: Question) => q.externalId ?? q.id;
    const rows = [
      { question_id: idOf(questions[1]!), question: questions[2]!.text, answer: "shifted" }, // line 1: id 1, text 2
      { question_id: questions[4]!.id, question: `  ${questions[5]!.text.toUpperCase()}？`, answer: "shifted" }, // 2: Leitai id 4, text 5 normalised
      { question_id: idOf(questions[7]!), question: `${questions[7]!.text.toUpperCase()}  `, answer: "same question" }, // 3: fine
      { question_id: questions[9]!.id, question: questions[9]!.text, answer: "same question" }, // 4: fine
    ];
    const before = await db.answerSet.count({ where: { modelId: offlineA.id } });
    const dry = await importFile(admin, offlineA.id, jsonl(rows), "dryRun=1&format=jsonl");
    expect(dry.status).toBe(200);
    const r = dry.body.report;
    expect(r).toMatchObject({ rows: 4, matched: 2, unmatchedCount: 0, duplicateCount: 0, errorCount: 2, toWrite: 0 });
    const [first, second] = r.errors as (Report["errors"][number] & { key: string; values: Record<string, string> })[];
    expect(first).toMatchObject({ line: 1, field: "question", key: "idTextMismatch", values: { id: idOf(questions[1]!), textId: idOf(questions[2]!) } });
    expect(second).toMatchObject({ line: 2, field: "question", key: "idTextMismatch", values: { id: questions[4]!.id, textId: idOf(questions[5]!) } });
    // Both ids, in either language.
    for (const lang of ["en", "zh"] as const) {
      const text = fill(messages(lang).adminImportIssues.idTextMismatch, first!.values);
      expect(text).toContain(idOf(questions[1]!));
      expect(text).toContain(idOf(questions[2]!));
    }
    expect(first!.message).toBe(fill(messages("en").adminImportIssues.idTextMismatch, first!.values));

    const commit = await importFile(admin, offlineA.id, jsonl(rows), "format=jsonl");
    expect(commit.status).toBe(400);
    expect(commit.body.error).toMatchObject({ code: "bad_request:answers", key: "importRefused", values: { n: 2 } });
    expect(await db.answerSet.count({ where: { modelId: offlineA.id } })).toBe(before);
    expect(await db.generation.count({ where: { modelId: offlineA.id, text: { in: ["shifted", "same question"] } } })).toBe(0);

    // Without the mismatched rows the same file commits.
    const ok = await importFile(admin, offlineA.id, jsonl(rows.slice(2)), "dryRun=1&format=jsonl");
    expect(ok.body.report).toMatchObject({ matched: 2, errorCount: 0, toWrite: 2 });
  });

  it("re-import replaces answers question by question: the pages count every question in play and what the latest file brought", async () => {
    const model = await createOffline(uniq("off-c"));
    const commit = async (subset: Question[], label: string) => {
      const res = await importFile(admin, model.id, jsonl(subset.map((q) => ({ question_id: q.externalId ?? q.id, answer: `${label} ${q.id}` }))), "format=jsonl");
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body.report.answerSet!.version;
    };
    const pageCounts = async () => {
      const html = await (await new Client().fetch(`/models/${model.slug}`)).text();
      const adminHtml = await (await admin.fetch(`/admin/models/${model.id}`)).text();
      return {
        inPlay: Number(/data-testid="model-answers-in-play" data-n="(\d+)"/.exec(html)?.[1]),
        latest: /data-testid="model-answer-set-latest" data-version="(\d+)" data-rows="(\d+)"/.exec(html)?.slice(1).map(Number),
        adminInPlay: Number(/data-testid="answers-in-play" data-n="(\d+)"/.exec(adminHtml)?.[1]),
        adminRows: adminHtml.match(/data-testid="answer-set-row"/g)?.length,
        html,
      };
    };

    expect(await commit(questions, "v1")).toBe(1);
    expect(await commit(questions.slice(0, 30), "v2")).toBe(2);
    let page = await pageCounts();
    expect(page).toMatchObject({ inPlay: QUESTIONS, latest: [2, 30], adminInPlay: QUESTIONS, adminRows: 2 });
    const english = await (await speak(new Client(), "en").fetch(`/models/${model.slug}`)).text();
    expect(english).toContain(`${QUESTIONS} questions in play`);
    expect(english).toMatch(/latest import: answer set version 2, (<!-- -->)?30(<!-- -->)? answers/);
    expect(await commit(questions.slice(40, 41), "v3")).toBe(3);
    page = await pageCounts();
    expect(page).toMatchObject({ inPlay: QUESTIONS, latest: [3, 1], adminInPlay: QUESTIONS, adminRows: 3 });
    expect(await answersInPlay({ modelId: model.id })).toBe(QUESTIONS);

    // What bank battles draw: each question's newest answer, whichever version gave it.
    const newest = await db.$queryRaw<{ text: string }[]>`
      SELECT DISTINCT ON ("questionId") text FROM generations WHERE "modelId" = ${model.id} AND status = 'completed'
      ORDER BY "questionId", "finishedAt" DESC`;
    const byVersion = (v: string) => newest.filter((g) => g.text.startsWith(`${v} `)).length;
    expect([byVersion("v1"), byVersion("v2"), byVersion("v3")]).toEqual([QUESTIONS - 30 - 1, 30, 1]);

    // A question out of rotation is no longer in play.
    await db.question.update({ where: { id: questions[0]!.id }, data: { active: false } });
    try {
      expect(await answersInPlay({ modelId: model.id })).toBe(QUESTIONS - 1);
    } finally {
      await db.question.update({ where: { id: questions[0]!.id }, data: { active: true } });
      await db.model.update({ where: { id: model.id }, data: { status: "disabled" } });
    }
  });

  it.each(["jsonl", "csv"] as const)("export → import → export round trips byte for byte (%s)", async (format) => {
    const exported = await admin.fetch(`/api/admin/models/${served.id}/answers?format=${format}`);
    expect(exported.status).toBe(200);
    const bytes = new Uint8Array(await exported.arrayBuffer());
    expect(bytes.length).toBeGreaterThan(0);
    const copy = await createOffline(uniq(`copy-${format}`));
    const imported = await admin.json<{ report: Report }>(`/api/admin/models/${copy.id}/answers?format=${format}`, { method: "POST", body: bytes });
    expect(imported.status, JSON.stringify(imported.body)).toBe(201);
    expect(imported.body.report.written).toBe(QUESTIONS);
    const again = new Uint8Array(await (await admin.fetch(`/api/admin/models/${copy.id}/answers?format=${format}`)).arrayBuffer());
    expect(Buffer.from(again).equals(Buffer.from(bytes))).toBe(true);
    await db.model.update({ where: { id: copy.id }, data: { status: "disabled" } });
  });
});

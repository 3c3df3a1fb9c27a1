import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import type { Client } from "./support/http";
import { adminClient } from "./support/users";

const run = randomBytes(4).toString("hex");
let admin: Client;
let categoryId: string;

async function send(method: string, path: string, body?: unknown) {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are checked field by field
  return admin.json<Record<string, any>>(path, { method, headers: { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
}

afterAll(async () => {
  await db.question.updateMany({ where: { text: { contains: run } }, data: { active: false } });
});

beforeAll(async () => {
  admin = await adminClient();
  categoryId = (await db.category.findUniqueOrThrow({ where: { slug: "knowledge" } })).id;
});

describe("question bank", () => {
  it("creates, finds, edits, deactivates and deletes a question, auditing each change", async () => {
    const created = await send("POST", "/api/admin/questions", { text: `CRUD question ${run}?`, categoryId, language: "en", tags: ["t"] });
    expect(created.status).toBe(201);
    const id = created.body.question.id as string;
    const dup = await send("POST", "/api/admin/questions", { text: `crud  QUESTION ${run}`, categoryId, language: "en" });
    expect(dup.status).toBe(409);
    expect(dup.body.error.field).toBe("text");

    const found = await admin.json<{ total: number; rows: { id: string }[] }>(`/api/admin/questions?q=${encodeURIComponent(`crud question ${run}`)}`);
    expect(found.body.rows.map((r) => r.id)).toEqual([id]);
    expect((await send("PATCH", `/api/admin/questions/${id}`, { text: `CRUD question ${run}, edited?` })).status).toBe(200);
    expect((await send("PATCH", `/api/admin/questions/${id}`, { active: false })).body.question.active).toBe(false);
    const inactive = await admin.json<{ rows: { id: string }[] }>(`/api/admin/questions?active=false&q=${run}`);
    expect(inactive.body.rows.map((r) => r.id)).toContain(id);
    expect((await send("DELETE", `/api/admin/questions/${id}`)).status).toBe(200);
    const actions = (await db.auditLog.findMany({ where: { targetType: "question", targetId: id }, orderBy: { createdAt: "asc" } })).map((a) => a.action);
    expect(actions).toEqual(["question.create", "question.update", "question.deactivate", "question.delete"]);
  });

  it("refuses to delete a question a battle used (409)", async () => {
    const q = await db.question.create({ data: { text: `used ${run}`, textHash: `hash-used-${run}`, categoryId } });
    const [a, b] = await Promise.all([0, 1].map((i) => db.model.create({ data: { slug: `q-${run}-${i}`, displayName: "m", kind: "openai", status: "disabled" } })));
    await db.battle.create({ data: { mode: "bank", questionId: q.id, modelAId: a!.id, modelBId: b!.id, voterKey: "k", ipHash: "i" } });
    const res = await send("DELETE", `/api/admin/questions/${q.id}`);
    expect(res.status).toBe(409);
    expect(await db.question.count({ where: { id: q.id } })).toBe(1);
  });

  it("filters by answers from a model, and pages by 50", async () => {
    const model = await db.model.findUniqueOrThrow({ where: { slug: `q-${run}-0` } });
    const q = await db.question.findFirstOrThrow({ where: { text: `used ${run}` } });
    await db.generation.create({ data: { modelId: model.id, questionId: q.id, purpose: "pregen", messages: [], status: "completed", text: "answer" } });
    const res = await admin.json<{ rows: { id: string }[]; total: number }>(`/api/admin/questions?answeredBy=${model.id}`);
    expect(res.body.rows.map((r) => r.id)).toEqual([q.id]);
    const page = await admin.json<{ rows: unknown[]; pages: number }>("/api/admin/questions?page=1");
    expect(page.body.rows.length).toBeLessThanOrEqual(50);
  });

  it("keeps an answered question's wording: a new one is a 409 naming the text field; case, spacing and punctuation may change", async () => {
    const created = await send("POST", "/api/admin/questions", { text: `Where is the answered river ${run}?`, categoryId, language: "en" });
    const id = created.body.question.id as string;
    const model = await db.model.findUniqueOrThrow({ where: { slug: `q-${run}-0` } });
    await db.generation.create({ data: { modelId: model.id, questionId: id, purpose: "pregen", messages: [], status: "completed", text: "In the north." } });

    const reworded = await send("PATCH", `/api/admin/questions/${id}`, { text: `Where is the answered lake ${run}?` });
    expect(reworded.status).toBe(409);
    expect(reworded.body.error).toMatchObject({ code: "conflict:question_answered", field: "text", key: "questionTextAnswered", values: { n: 1 } });
    expect((await db.question.findUniqueOrThrow({ where: { id } })).text).toBe(`Where is the answered river ${run}?`);

    const tidied = await send("PATCH", `/api/admin/questions/${id}`, { text: `where is the answered  river ${run}` });
    expect(tidied.status).toBe(200);
    expect(tidied.body.question.text).toBe(`where is the answered  river ${run}`);
  });

  it("manages categories with zh and en names; a used category cannot be deleted", async () => {
    const created = await send("POST", "/api/admin/categories", { slug: `cat-${run}`, nameZh: "测试", nameEn: "Test" });
    expect(created.status).toBe(201);
    const id = created.body.category.id as string;
    expect((await send("PUT", `/api/admin/categories/${id}`, { slug: `cat-${run}`, nameZh: "测试二", nameEn: "Test 2", sortOrder: 99 })).body.category.nameZh).toBe("测试二");
    expect((await send("POST", "/api/admin/categories", { slug: `cat-${run}`, nameZh: "x", nameEn: "y" })).status).toBe(409);
    expect((await send("DELETE", `/api/admin/categories/${categoryId}`)).status).toBe(409);
    expect((await send("DELETE", `/api/admin/categories/${id}`)).status).toBe(200);
    const actions = (await db.auditLog.findMany({ where: { targetType: "category", targetId: id }, orderBy: { createdAt: "asc" } })).map((a) => a.action);
    expect(actions).toEqual(["category.create", "category.update", "category.delete"]);
  });
});

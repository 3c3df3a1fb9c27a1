import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { draftStatusOf } from "@/lib/admin/model-draft";
import { db } from "@/lib/db";
import { decryptSecret } from "@/lib/secrets";
import type { Client } from "./support/http";
import { adminSurface } from "./support/admin-surface";
import { speak } from "./support/arena-settings";
import { adminClient } from "./support/users";

// Models through the admin API: validation names fields, saving checks reachability against a
// real (local, fake) OpenAI-compatible endpoint, and the API key is stored encrypted and never
// leaves the server — not in any response, not in the audit log.

const run = randomBytes(4).toString("hex");
const API_KEY = `sk-leitai-${randomBytes(16).toString("hex")}`;
let admin: Client;
let engine: Server;
let engineUrl: string;
const bodies: string[] = [];
/** What the fake runtime's chat-completions endpoint was sent (the chat-template check). */
const runtimeRequests: Record<string, unknown>[] = [];
const JINJA = "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}<|im_start|>assistant\n";

beforeAll(async () => {
  // Refusals are worded in the reader's language: these read the English ones.
  admin = speak(await adminClient(), "en");
  engine = createServer(async (req, res) => {
    const ok = req.headers.authorization === `Bearer ${API_KEY}`;
    if (req.url === "/rt/v1/chat/completions") {
      // Like the gpu-runtime: a template it cannot compile or render is a 400 naming chat_template.
      let raw = "";
      for await (const chunk of req) raw += chunk;
      const body = JSON.parse(raw) as Record<string, unknown>;
      runtimeRequests.push(body);
      if (String(body.chat_template).includes("broken")) {
        res.writeHead(400, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: "the chat template does not compile: unexpected end of template", type: "invalid_request_error", param: "chat_template" } }));
      } else {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.end('data: {"choices":[{"delta":{"content":"x"},"finish_reason":"length"}]}\n\ndata: [DONE]\n\n');
      }
    } else if (req.url === "/v1/models") {
      res.writeHead(ok ? 200 : 401, { "content-type": "application/json" });
      res.end(JSON.stringify(ok ? { data: [{ id: "remote-chat" }] } : { error: "bad key" }));
    } else if (req.url === "/rt/v1/models") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ data: [{ id: `served-${run}` }] }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => engine.listen(0, "127.0.0.1", resolve));
  engineUrl = `http://127.0.0.1:${(engine.address() as AddressInfo).port}`;
});

afterAll(async () => {
  // Other suites share this database: these models must not be drawn into their battles.
  await db.battle.deleteMany({ where: { voterKey: `test:${run}` } });
  await db.model.updateMany({ where: { slug: { contains: run } }, data: { status: "disabled" } });
  await new Promise((resolve) => engine.close(resolve));
});

async function call(path: string, init: { method?: string; body?: unknown } = {}, client = admin) {
  const res = await client.fetch(path, {
    method: init.method ?? "GET",
    ...(init.body !== undefined ? { headers: { "content-type": "application/json" }, body: JSON.stringify(init.body) } : {}),
  });
  const text = await res.text();
  bodies.push(text);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are checked field by field
  return { status: res.status, body: JSON.parse(text) as Record<string, any> };
}

const openaiModel = (slug: string, extra: Record<string, unknown> = {}) => ({
  kind: "openai", slug, displayName: `Remote ${slug}`, engine: { baseUrl: `${engineUrl}/v1`, remoteModel: "remote-chat" },
  generationDefaults: { temperature: 0.7, topP: 0.9, topK: 40, repetitionPenalty: 1, maxTokens: 256 }, battleWeight: 1, ...extra,
});

describe("admin models", () => {
  let id: string;

  it("validation errors name the field", async () => {
    const badSlug = await call("/api/admin/models", { method: "POST", body: openaiModel("Bad Slug") });
    expect(badSlug.status).toBe(400);
    expect(badSlug.body.error.field).toBe("slug");
    const badUrl = await call("/api/admin/models", { method: "POST", body: { ...openaiModel(`x-${run}`), engine: { baseUrl: "not a url", remoteModel: "m" } } });
    expect(badUrl.status).toBe(400);
    expect(badUrl.body.error.field).toBe("engine.baseUrl");
    const badTemp = await call("/api/admin/models", { method: "POST", body: openaiModel(`x-${run}`, { generationDefaults: { temperature: 9 } }) });
    expect(badTemp.body.error.field).toBe("generationDefaults.temperature");
  });

  it("creates an openai model: reachable with the key → active; the key is encrypted at rest", async () => {
    const created = await call("/api/admin/models", { method: "POST", body: openaiModel(`remote-${run}`, { apiKey: API_KEY }) });
    expect(created.status).toBe(201);
    expect(created.body.check.ok).toBe(true);
    expect(created.body.model).toMatchObject({ status: "active", apiKey: "set" });
    expect(created.body.model).not.toHaveProperty("apiKeyEncrypted");
    id = created.body.model.id;
    const [raw] = await db.$queryRaw<{ apiKeyEncrypted: string }[]>`SELECT "apiKeyEncrypted" FROM models WHERE id = ${id}`;
    expect(raw!.apiKeyEncrypted).toMatch(/^v1:[\w-]+:[\w-]+:[\w-]+$/);
    expect(raw!.apiKeyEncrypted).not.toContain(API_KEY);
    expect(decryptSecret(raw!.apiKeyEncrypted)).toBe(API_KEY);
  });

  it("an empty key on edit keeps the stored key; a wrong key saves the model as disabled", async () => {
    const [before] = await db.$queryRaw<{ apiKeyEncrypted: string }[]>`SELECT "apiKeyEncrypted" FROM models WHERE id = ${id}`;
    const kept = await call(`/api/admin/models/${id}`, { method: "PUT", body: openaiModel(`remote-${run}`, { apiKey: "", description: "edited" }) });
    expect(kept.status).toBe(200);
    expect(kept.body.check.ok).toBe(true);
    expect(kept.body.model).toMatchObject({ status: "active", apiKey: "set", description: "edited" });
    const [after] = await db.$queryRaw<{ apiKeyEncrypted: string }[]>`SELECT "apiKeyEncrypted" FROM models WHERE id = ${id}`;
    expect(after!.apiKeyEncrypted).toBe(before!.apiKeyEncrypted);

    const wrong = await call("/api/admin/models", { method: "POST", body: openaiModel(`wrongkey-${run}`, { apiKey: "sk-wrong" }) });
    expect(wrong.status).toBe(201);
    expect(wrong.body.check).toMatchObject({ ok: false, field: "apiKey" });
    expect(wrong.body.model.status).toBe("disabled");
  });

  it("an unreachable endpoint is saved as disabled with the reason, and cannot be enabled", async () => {
    const dead = await call("/api/admin/models", {
      method: "POST", body: { ...openaiModel(`dead-${run}`), engine: { baseUrl: "http://127.0.0.1:9/v1", remoteModel: "m" } },
    });
    expect(dead.status).toBe(201);
    expect(dead.body.check.ok).toBe(false);
    expect(dead.body.check.message).toMatch(/not reachable/);
    expect(dead.body.model.status).toBe("disabled");
    const enable = await call(`/api/admin/models/${dead.body.model.id}/status`, { method: "POST", body: { status: "active" } });
    expect(enable.status).toBe(409);
    expect(enable.body.error.code).toBe("conflict:model_unreachable");
    // The check names its catalogue message, reason inside, so a Chinese reader reads it all in Chinese.
    expect(enable.body.error).toMatchObject({ key: "modelNotEnabled", values: { reason: { key: "checkUnreachable", values: { reason: { key: "checkConnectionFailed" } } } } });
    const zh = speak(await adminClient(), "zh");
    const refused = await call(`/api/admin/models/${dead.body.model.id}/status`, { method: "POST", body: { status: "active" } }, zh);
    expect(refused.body.error.message).toBe("未启用：无法连接 http://127.0.0.1:9/v1/models：连接失败。");
    const saved = await call(`/api/admin/models/${dead.body.model.id}`, { method: "PUT", body: { ...openaiModel(`dead-${run}`), engine: { baseUrl: "http://127.0.0.1:9/v1", remoteModel: "m" } } }, zh);
    expect(saved.body.check).toMatchObject({ ok: false, key: "checkUnreachable", message: "无法连接 http://127.0.0.1:9/v1/models：连接失败。" });
    // The audit log keeps the check by its keys, for the model page to say in its own language.
    const audit = await db.auditLog.findFirstOrThrow({ where: { targetId: dead.body.model.id, action: "model.update" }, orderBy: { createdAt: "desc" } });
    expect(audit.after).toMatchObject({ check: { key: "checkUnreachable", message: "http://127.0.0.1:9/v1/models is not reachable: connection failed." } });
  });

  it("a local model is active when its runtime lists the served name", async () => {
    const local = {
      kind: "local", slug: `local-${run}`, displayName: "Local", battleWeight: 2,
      engine: { path: "/models/tiny.gguf", chatTemplate: "alpaca2", runtimeUrl: `${engineUrl}/rt`, servedName: `served-${run}` },
    };
    const created = await call("/api/admin/models", { method: "POST", body: local });
    expect(created.status).toBe(201);
    expect(created.body.model.status).toBe("active");
    const missing = await call("/api/admin/models", { method: "POST", body: { ...local, slug: `local2-${run}`, engine: { ...local.engine, servedName: "nope" } } });
    expect(missing.body.check).toMatchObject({ ok: false });
    expect(missing.body.check.message).toMatch(/does not list nope/);

    // The test button queues a real "test" generation; a disabled model is refused up front.
    const test = await call(`/api/admin/models/${created.body.model.id}/test`, { method: "POST", body: { prompt: "hi" } });
    expect(test.status).toBe(201);
    const generation = await db.generation.findUniqueOrThrow({ where: { id: test.body.generationId } });
    expect(generation).toMatchObject({ purpose: "test", modelId: created.body.model.id, messages: [{ role: "user", content: "hi" }] });
    // Without a prompt it sends the one the model page shows, in the reader's language (this client's: English).
    const byDefault = await call(`/api/admin/models/${created.body.model.id}/test`, { method: "POST", body: {} });
    expect(await db.generation.findUniqueOrThrow({ where: { id: byDefault.body.generationId } })).toMatchObject({ messages: [{ role: "user", content: "Introduce yourself in one sentence." }] });
    const refused = await call(`/api/admin/models/${missing.body.model.id}/test`, { method: "POST", body: {} });
    expect(refused.status).toBe(409);
  });

  it("custom chat template: empty is a field error and saves nothing; the runtime's verdict decides active or disabled", async () => {
    const local = (slug: string, engine: Record<string, unknown>) => ({
      kind: "local", slug, displayName: `Templated ${slug}`,
      engine: { path: "/models/real.gguf", runtimeUrl: `${engineUrl}/rt`, servedName: `served-${run}`, ...engine },
      generationDefaults: { temperature: 0.8, seed: 1234 },
    });
    for (const chatTemplateJinja of [null, "", "  \n "]) {
      const empty = await call("/api/admin/models", { method: "POST", body: local(`tpl-empty-${run}`, { chatTemplate: "custom", chatTemplateJinja }) });
      expect(empty.status).toBe(400);
      expect(empty.body.error).toMatchObject({ code: "bad_request:input", field: "engine.chatTemplateJinja" });
      expect(empty.body.error.message).toMatch(/custom chat template needs its Jinja source/);
    }
    expect(await db.model.count({ where: { slug: `tpl-empty-${run}` } })).toBe(0);
    const unknown = await call("/api/admin/models", { method: "POST", body: local(`tpl-x-${run}`, { chatTemplate: "chatml" }) });
    expect(unknown.body.error.field).toBe("engine.chatTemplate");

    const before = runtimeRequests.length;
    const broken = await call("/api/admin/models", { method: "POST", body: local(`tpl-broken-${run}`, { chatTemplate: "custom", chatTemplateJinja: "{{ broken" }) });
    expect(broken.status).toBe(201);
    expect(broken.body.check).toMatchObject({ ok: false, field: "engine.chatTemplate" });
    expect(broken.body.check.message).toMatch(/rejects the chat template: the chat template does not compile/);
    expect(broken.body.model.status).toBe("disabled");
    // One 1-token request, with the Jinja itself as chat_template.
    expect(runtimeRequests.slice(before)).toEqual([expect.objectContaining({ model: `served-${run}`, max_tokens: 1, chat_template: "{{ broken" })]);

    const good = await call("/api/admin/models", { method: "POST", body: local(`tpl-good-${run}`, { chatTemplate: "custom", chatTemplateJinja: JINJA }) });
    expect(good.body.check).toMatchObject({ ok: true });
    expect(good.body.check.message).toMatch(/accepts its chat template/);
    expect(good.body.model).toMatchObject({ status: "active", engine: { chatTemplate: "custom", chatTemplateJinja: JINJA }, generationDefaults: { seed: 1234 } });
    // Built-in templates need no check request; "model" gets one (the checkpoint may have none).
    const sent = runtimeRequests.length;
    await call(`/api/admin/models/${good.body.model.id}`, { method: "PUT", body: local(`tpl-good-${run}`, { chatTemplate: "alpaca2", chatTemplateJinja: JINJA }) });
    expect(runtimeRequests.length).toBe(sent);
    const own = await call(`/api/admin/models/${good.body.model.id}`, { method: "PUT", body: local(`tpl-good-${run}`, { chatTemplate: "model" }) });
    expect(own.body.check.ok).toBe(true);
    expect(runtimeRequests.at(-1)).toMatchObject({ chat_template: "model", max_tokens: 1 });

    const audit = await db.auditLog.findMany({ where: { targetType: "model", targetId: good.body.model.id }, orderBy: { createdAt: "asc" } });
    expect(audit.map((a) => a.action)).toEqual(["model.create", "model.update", "model.update"]);
    expect(audit[0]!.after).toMatchObject({ engine: { chatTemplate: "custom", chatTemplateJinja: JINJA }, check: { ok: true } });
    expect(audit[2]!.before).toMatchObject({ engine: { chatTemplate: "alpaca2" } });
  });

  it("disable, retire and enable write audit entries; the slug is fixed once there are battles", async () => {
    expect((await call(`/api/admin/models/${id}/status`, { method: "POST", body: { status: "disabled" } })).body.model.status).toBe("disabled");
    expect((await call(`/api/admin/models/${id}/status`, { method: "POST", body: { status: "active" } })).body.model.status).toBe("active");
    const actions = (await db.auditLog.findMany({ where: { targetType: "model", targetId: id }, orderBy: { createdAt: "asc" } })).map((a) => a.action);
    expect(actions).toEqual(["model.create", "model.update", "model.status", "model.status"]);

    const other = await db.model.findFirstOrThrow({ where: { slug: `local-${run}` } });
    await db.battle.create({ data: { mode: "live", modelAId: id, modelBId: other.id, voterKey: `test:${run}`, ipHash: "x" } });
    const renamed = await call(`/api/admin/models/${id}`, { method: "PUT", body: openaiModel(`renamed-${run}`) });
    expect(renamed.status).toBe(409);
    expect(renamed.body.error.field).toBe("slug");
    const list = await call("/api/admin/models");
    expect(list.body.models.find((m: { id: string }) => m.id === id)).toMatchObject({ battles: 1, apiKey: "set" });
  });

  it("a draft must exist on the runtime's machine, one served model runs one draft, and the page compares it with the runtime's", async () => {
    const draftDir = mkdtempSync(path.join(tmpdir(), "leitai-draft-"));
    const otherDraft = mkdtempSync(path.join(tmpdir(), "leitai-draft-"));
    const local = (slug: string, engine: Record<string, unknown>) => ({
      kind: "local", slug, displayName: `Drafted ${slug}`,
      engine: { path: "/models/7b.gguf", runtimeUrl: `${engineUrl}/rt`, servedName: `served-${run}`, ...engine },
    });
    const missing = await call("/api/admin/models", { method: "POST", body: local(`draft-a-${run}`, { draftPath: `/nonexistent/draft-${run}` }) });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatchObject({ code: "bad_request:model_draft", field: "engine.draftPath" });
    expect(missing.body.error.message).toContain("does not exist on this machine");
    const tooMany = await call("/api/admin/models", { method: "POST", body: local(`draft-a-${run}`, { draftPath: draftDir, numSpeculativeTokens: 17 }) });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.field).toBe("engine.numSpeculativeTokens");
    expect(await db.model.count({ where: { slug: `draft-a-${run}` } })).toBe(0);

    const created = await call("/api/admin/models", { method: "POST", body: local(`draft-a-${run}`, { draftPath: draftDir, numSpeculativeTokens: 3 }) });
    expect(created.status).toBe(201);
    expect(created.body.model.engine).toMatchObject({ draftPath: draftDir, numSpeculativeTokens: 3 });
    // Another row of the same served model may set the same draft or none, not another one.
    const clash = await call("/api/admin/models", { method: "POST", body: local(`draft-b-${run}`, { draftPath: otherDraft, numSpeculativeTokens: 3 }) });
    expect(clash.status).toBe(409);
    expect(clash.body.error).toMatchObject({ code: "conflict:model_draft", field: "engine.draftPath" });
    expect(clash.body.error.message).toContain(`draft-a-${run} serves served-${run}`);
    expect((await call("/api/admin/models", { method: "POST", body: local(`draft-b-${run}`, { draftPath: draftDir, numSpeculativeTokens: 3 }) })).status).toBe(201);
    expect((await call("/api/admin/models", { method: "POST", body: local(`draft-c-${run}`, {}) })).status).toBe(201);
    // Editing one row to another draft clashes with the row that shares the served model.
    const edited = await call(`/api/admin/models/${created.body.model.id}`, { method: "PUT", body: local(`draft-a-${run}`, { draftPath: otherDraft, numSpeculativeTokens: 3 }) });
    expect(edited.status).toBe(409); // draft-b still sets draftDir
    expect(edited.body.error.message).toContain(`draft-b-${run}`);

    // This fake runtime lists the served model without speculation: the page says it is not applied yet.
    const row = await db.model.findUniqueOrThrow({ where: { id: created.body.model.id } });
    const status = await draftStatusOf(row);
    expect(status).toMatchObject({ state: "pending", configured: { path: draftDir, numSpeculativeTokens: 3 } });
    expect(status).toMatchObject({ key: "draftNotYet", values: { served: `served-${run}` } });
    expect(status?.message).toContain(`--draft served-${run}=PATH`);
    expect(await draftStatusOf(await db.model.findFirstOrThrow({ where: { slug: `draft-c-${run}` } }))).toBeNull();
  });

  it("the API key appears in no admin response and no audit entry", async () => {
    for (const e of adminSurface().filter((x) => x.method === "GET")) {
      const url = e.url.replace("does-not-exist", id);
      const res = await admin.fetch(url);
      bodies.push(await res.text());
    }
    expect(bodies.length).toBeGreaterThan(20);
    for (const body of bodies) expect(body).not.toContain(API_KEY);
    const audit = await db.auditLog.findMany({ where: { targetType: "model" } });
    expect(JSON.stringify(audit)).not.toContain(API_KEY);
    expect(JSON.stringify(audit)).toContain('"apiKey":"set"');
  });
});

import { randomBytes } from "node:crypto";
import type { Model } from "@prisma/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import { createAndEnqueue } from "@/lib/generations";
import { DEFAULT_GENERATION_PARAMS } from "@/lib/pipeline/contracts";
import { generationQueue, JUDGE_QUEUE, modelQueueName, PREGEN_QUEUE, RATINGS_QUEUE } from "@/lib/pipeline/queues";
import { createUser } from "@/lib/users";
import type { GenerationWorkers } from "@/workers/pool";
import { createModel, finishedGeneration, releasePipeline, startWorkers, waitFor } from "./pipeline/helpers";
import { FakeEngine } from "./support/fake-engine";
import { speak } from "./support/arena-settings";
import { Client } from "./support/http";
import { adminClient, voterClient } from "./support/users";

// The queue console (Bull Board at /admin/queues) is answered by the web server, not by an app
// route, so admin-access.test.ts does not find it on disk: its guard is checked here, page, API,
// assets and actions alike, then what an admin sees and does with it.

const API = "/admin/queues/api/queues";
const ACTION = `/admin/queues/api/queues/${PREGEN_QUEUE}/retry/failed`;
const ASSET = "/admin/queues/static/images/logo.svg";

type Listed = { queues: { name: string; displayName: string; jobs: { id: string; failedReason?: string }[] }[] };

let admin: Client;
let voter: Client;

beforeAll(async () => {
  [admin, voter] = await Promise.all([adminClient(), voterClient()]);
  speak(admin, "en");
});

/** A signed-in account of this role; `edit` changes its row after it signed in. */
async function signedIn(role: "admin" | "voter", data: { mustChangePassword?: boolean } = {}, edit?: { disabled: boolean }): Promise<Client> {
  const email = `console-${randomBytes(5).toString("hex")}@test.leitai`;
  const password = randomBytes(12).toString("base64url");
  const user = await createUser({ email, password, role, ...data });
  const client = new Client();
  await client.signIn(email, password);
  if (edit) await db.user.update({ where: { id: user.id }, data: edit });
  return client;
}

describe("who may use the queue console", () => {
  it("anonymous: 401 on the API, its assets and actions; the page sends them to sign in", async () => {
    const anonymous = new Client();
    for (const path of [API, ASSET]) {
      const res = await anonymous.fetch(path);
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: { code: "unauthorized:auth", key: "signInFirst", message: expect.any(String) } });
    }
    expect((await anonymous.fetch(ACTION, { method: "PUT" })).status).toBe(401);
    for (const path of ["/admin/queues", "/admin/queues/queue/ratings"]) {
      const page = await anonymous.fetch(path);
      expect(page.status).toBe(307);
      expect(page.headers.get("location")).toBe(`/signin?callbackUrl=${encodeURIComponent(path)}`);
    }
  });

  it("a voter: 403 on the page, the API, its assets and actions, said in the voter's language", async () => {
    const page = await speak(voter, "en").fetch("/admin/queues");
    expect(page.status).toBe(403);
    expect(page.headers.get("x-frame-options")).toBe("DENY");
    expect(await page.text()).toContain("403 · The queue console is for admins only.");
    for (const path of [API, ASSET]) {
      const res = await voter.fetch(path);
      expect(res.status).toBe(403);
      expect((await res.json()).error).toMatchObject({ code: "forbidden:admin", message: "Admins only.", key: "adminsOnly" });
    }
    expect(await (await speak(voter, "zh").fetch("/admin/queues")).text()).toContain("403 · 队列控制台只对管理员开放。");
    expect((await (await voter.fetch(API)).json()).error.message).toBe("只有管理员可以这样做。");
    expect((await voter.fetch(ACTION, { method: "PUT" })).status).toBe(403);
  });

  it("an admin whose password someone else chose: 403 on the API, the page goes to /account first", async () => {
    const fresh = await signedIn("admin", { mustChangePassword: true });
    const res = await fresh.fetch(API);
    expect(res.status).toBe(403);
    expect((await res.json()).error.code).toBe("forbidden:password_change_required");
    const page = await fresh.fetch("/admin/queues");
    expect(page.status).toBe(307);
    expect(page.headers.get("location")).toBe("/account?next=%2Fadmin%2Fqueues");
  });

  it("an admin disabled after signing in counts as signed out", async () => {
    const disabled = await signedIn("admin", {}, { disabled: true });
    expect((await disabled.fetch(API)).status).toBe(401);
  });

  it("a forged session cookie is nobody's", async () => {
    const forged = new Client();
    const res = await forged.fetch(API, { headers: { cookie: "next-auth.session-token=not-a-token" } });
    expect(res.status).toBe(401);
  });

  it("an admin: the page, its assets and the API", async () => {
    const page = await admin.fetch("/admin/queues");
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<base href="/admin/queues/"');
    expect(html).not.toContain("fonts.googleapis.com");
    expect(page.headers.get("cache-control")).toBe("no-store");
    expect((await admin.fetch("/admin/queues/queue/ratings")).status).toBe(200);
    expect((await admin.fetch(ASSET)).status).toBe(200);
  });
});

describe("what the queue console shows and does", () => {
  let engine: FakeEngine;
  let workers: GenerationWorkers | undefined;
  let model: Model;

  beforeAll(async () => {
    engine = await new FakeEngine().start();
  });

  afterAll(async () => {
    await workers?.close(1000);
    await engine.stop();
    await releasePipeline();
  });

  it("lists every queue, and a model added while the site runs, both lanes; a retired one leaves", async () => {
    model = await createModel({ kind: "openai", engine: { baseUrl: engine.baseUrl, remoteModel: "reject" } });
    await db.model.update({ where: { id: model.id }, data: { battleWeight: 0 } });
    const { status, body } = await admin.json<Listed>(API);
    expect(status).toBe(200);
    const names = body.queues.map((q) => q.name);
    expect(names).toEqual(expect.arrayContaining([PREGEN_QUEUE, RATINGS_QUEUE, JUDGE_QUEUE, modelQueueName(model.id, "live"), modelQueueName(model.id, "pregen")]));
    expect(body.queues.find((q) => q.name === modelQueueName(model.id, "live"))?.displayName).toBe(`${model.slug} · live`);
    // The board speaks the admin's language: its own locale, and our names for the queues.
    const zh = await speak(admin, "zh").json<Listed>(API);
    expect(zh.body.queues.find((q) => q.name === modelQueueName(model.id, "live"))?.displayName).toBe(`${model.slug} · 自由提问`);
    expect(await (await admin.fetch("/admin/queues")).text()).toContain('"lng":"zh-CN"');
    speak(admin, "en");

    const system = await admin.fetch("/admin/system");
    const html = await system.text();
    expect(html).toContain('href="/admin/queues"');
    for (const name of [PREGEN_QUEUE, RATINGS_QUEUE, JUDGE_QUEUE, modelQueueName(model.id, "pregen")]) expect(html).toContain(`data-queue="${name}"`);

    await db.model.update({ where: { id: model.id }, data: { status: "retired" } });
    const after = await admin.json<Listed>(API);
    expect(after.body.queues.map((q) => q.name)).not.toContain(modelQueueName(model.id, "live"));
    await db.model.update({ where: { id: model.id }, data: { status: "active" } });
  });

  it("a failed answer's job shows the engine's reason; retried from the console, its generation runs again", async () => {
    workers = await startWorkers([model]);
    const ask = [{ role: "user" as const, content: "Name a colour." }];
    const generation = await createAndEnqueue({ modelId: model.id, purpose: "test", messages: ask, params: { ...DEFAULT_GENERATION_PARAMS, maxTokens: 16 } });
    expect((await finishedGeneration(generation.id)).status).toBe("failed");
    const queue = modelQueueName(model.id, "live");
    await waitFor(async () => (await generationQueue(model.id, "live").getJobState(generation.id)) === "failed", 10_000, "the job to fail");

    const failed = await admin.json<Listed>(`${API}?activeQueue=${queue}&status=failed`);
    const job = failed.body.queues.find((q) => q.name === queue)?.jobs.find((j) => j.id === generation.id);
    expect(job?.failedReason).toContain("engine answered HTTP 400: max_tokens is too large");

    // Others cannot act on it; an admin's retry reopens the row (a worker skips a failed one).
    expect((await voter.fetch(`${API}/${queue}/${generation.id}/retry`, { method: "PUT" })).status).toBe(403);
    await db.model.update({ where: { id: model.id }, data: { engine: { baseUrl: engine.baseUrl, remoteModel: "tokens:3:0" } } });
    const retried = await admin.fetch(`${API}/${queue}/${generation.id}/retry`, { method: "PUT" });
    expect(retried.status).toBe(204);
    const done = await waitFor(async () => {
      const g = await db.generation.findUniqueOrThrow({ where: { id: generation.id } });
      return g.status === "completed" ? g : null;
    }, 20_000, "the retried generation to complete");
    expect(done.text).toBe(FakeEngine.text(3));
    const audit = await db.auditLog.findMany({ where: { OR: [{ targetId: generation.id }, { targetId: queue }] } });
    expect(audit.map((a) => a.action).sort()).toEqual(["generation.retry", "queue.retry"]);
  });

  it("refuses what would bypass the arena's record: adding jobs, editing their data, emptying a queue", async () => {
    const queue = modelQueueName(model.id, "live");
    const add = await admin.fetch(`${API}/${queue}/add`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "generate", data: {} }) });
    expect(add.status).toBe(403);
    expect((await admin.fetch(`${API}/${queue}/empty`, { method: "PUT" })).status).toBe(403);
    expect((await admin.fetch(`${API}/${queue}/obliterate`, { method: "PUT" })).status).toBe(403);
    expect(await generationQueue(model.id, "live").getJobCounts("waiting")).toEqual({ waiting: 0 });
  });
});

import { randomBytes } from "node:crypto";
import { expect, test } from "@playwright/test";
import type { Model } from "@prisma/client";
import { db } from "@/lib/db";
import { createAndEnqueue } from "@/lib/generations";
import { DEFAULT_GENERATION_PARAMS } from "@/lib/pipeline/contracts";
import { closeChannelHub } from "@/lib/pipeline/hub";
import { closeQueues, generationQueue, modelQueueName } from "@/lib/pipeline/queues";
import { createUser } from "@/lib/users";
import { GenerationWorkers } from "@/workers/pool";
import { FakeEngine } from "../integration/support/fake-engine";
import { ADMIN_EMAIL, ADMIN_PASSWORD, signInAsAdmin } from "./support/admin";

// The queue console (Bull Board at /admin/queues) in Chromium. A model whose endpoint rejects
// the request (a fake OpenAI-compatible engine, served by a worker pool of this spec's own)
// leaves a failed job behind; an admin finds it from /admin/system, reads why it failed, fixes
// the engine and retries it from the console, and the answer is written after all.

const tag = randomBytes(3).toString("hex");
let engine: FakeEngine;
let pool: GenerationWorkers;
let model: Model;
let generationId: string;
let queueName: string;

test.beforeAll(async () => {
  engine = await new FakeEngine().start();
  model = await db.model.create({
    data: { slug: `e2e-console-${tag}`, displayName: `Console ${tag}`, kind: "openai", battleWeight: 0, engine: { baseUrl: engine.baseUrl, remoteModel: "reject" } },
  });
  pool = new GenerationWorkers({
    workerId: `e2e-console-${tag}`, models: [model.slug], refreshMs: 60_000, lockDurationMs: 10_000,
    stalledIntervalMs: 10_000, defaultConcurrency: 2, timeouts: { connectMs: 2_000, firstTokenMs: 10_000, idleMs: 10_000 }, pregen: false,
  });
  await pool.start();
  const g = await createAndEnqueue({ modelId: model.id, purpose: "test", messages: [{ role: "user", content: "Name a colour." }], params: { ...DEFAULT_GENERATION_PARAMS, maxTokens: 16 } });
  generationId = g.id;
  queueName = modelQueueName(model.id, "live");
  await expect.poll(() => generationQueue(model.id, "live").getJobState(g.id), { timeout: 20_000 }).toBe("failed");
});

test.afterAll(async () => {
  await pool?.close(2_000);
  await engine?.stop();
  if (model) await db.model.update({ where: { id: model.id }, data: { status: "retired" } });
  await closeQueues();
  await closeChannelHub();
});

test("an admin finds a failed job from /admin/system, reads why it failed and retries it", async ({ page }) => {
  await signInAsAdmin(page);
  await page.goto("/admin/system");
  const row = page.locator(`[data-testid="system-queue"][data-queue="${queueName}"]`);
  await expect(row).toContainText(`${model.slug} · live`);
  await expect(row.getByTestId("system-queue-failed")).toHaveText("1");
  await page.getByTestId("system-queue-console").click();
  await expect(page).toHaveURL(/\/admin\/queues\/?$/);

  await page.getByRole("link", { name: `${model.slug} · live` }).click();
  await expect(page.getByRole("heading", { name: `${model.slug} · live` })).toBeVisible();
  await page.getByRole("link", { name: /^failed\s*1$/i }).click();
  const job = page.getByRole("link", { name: generationId });
  await expect(job).toBeVisible();
  await expect(page.getByRole("tabpanel", { name: "Error" })).toContainText("engine answered HTTP 400: max_tokens is too large");

  // The operator fixes the endpoint, then retries the job: its generation is reopened and answered.
  await db.model.update({ where: { id: model.id }, data: { engine: { baseUrl: engine.baseUrl, remoteModel: "tokens:3:0" } } });
  // The job's own actions are icons with a tooltip; "Retry all" beside them has its words.
  const retry = page.locator("main li").filter({ hasNotText: "Retry all" }).locator("button:has(svg.lucide-refresh-cw)");
  await retry.hover();
  await expect(page.getByText("Retry", { exact: true })).toBeVisible();
  await retry.click();
  const confirm = page.getByRole("alertdialog", { name: "Are you sure?" });
  await expect(confirm).toContainText("retry this job");
  await confirm.getByRole("button", { name: "Confirm" }).click();
  await expect(page.getByText("No failed jobs in this queue.")).toBeVisible();
  await expect(job).toHaveCount(0);
  await expect.poll(async () => (await db.generation.findUniqueOrThrow({ where: { id: generationId } })).status, { timeout: 20_000 }).toBe("completed");
  expect((await db.generation.findUniqueOrThrow({ where: { id: generationId } })).text).toBe(FakeEngine.text(3));
  await page.getByRole("link", { name: /^completed/i }).click();
  await expect(page.getByRole("link", { name: generationId })).toBeVisible();
  const audit = await db.auditLog.findFirst({ where: { action: "generation.retry", targetId: generationId }, include: { actor: true } });
  expect(audit?.actor?.email).toBe(ADMIN_EMAIL);
});

test("an anonymous visitor is sent to sign in and comes back to the console; the API answers 401", async ({ page }) => {
  expect((await page.request.get("/admin/queues/api/queues")).status()).toBe(401);
  await page.goto("/admin/queues");
  await expect(page).toHaveURL(/\/signin\?callbackUrl=%2Fadmin%2Fqueues$/);
  await page.getByTestId("signin-email").fill(ADMIN_EMAIL);
  await page.getByTestId("signin-password").fill(ADMIN_PASSWORD);
  await page.getByTestId("signin-submit").click();
  await expect(page).toHaveURL(/\/admin\/queues$/);
  await expect(page.getByRole("link", { name: `${model.slug} · live` })).toBeVisible();
});

test("a signed-in voter is refused the console, its API and /metrics (403); anonymous /metrics is 401", async ({ page, playwright, baseURL }) => {
  const email = `e2e-console-voter-${tag}@test.leitai`;
  const password = `voter-${tag}-password`;
  await createUser({ email, password, role: "voter" });
  const anonymous = await playwright.request.newContext({ baseURL });
  expect((await anonymous.get("/metrics")).status()).toBe(401);
  await anonymous.dispose();

  await page.goto("/signin");
  await page.getByTestId("signin-email").fill(email);
  await page.getByTestId("signin-password").fill(password);
  await page.getByTestId("signin-submit").click();
  await expect(page).not.toHaveURL(/\/signin/);
  // The browser's own session cookie: the page, the API behind it and the metrics.
  expect((await page.goto("/admin/queues"))?.status()).toBe(403);
  await expect(page.locator("body")).not.toContainText(model.slug);
  for (const path of ["/admin/queues/api/queues", `/admin/queues/api/queues/${encodeURIComponent(queueName)}/retry/failed`, "/metrics"]) {
    const res = path.includes("/retry/") ? await page.request.put(path) : await page.request.get(path);
    expect(res.status(), path).toBe(403);
  }
});

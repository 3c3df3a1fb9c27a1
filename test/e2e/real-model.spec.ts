import type { Model } from "@prisma/client";
import { expect, test, type Page } from "@playwright/test";
import { db } from "../../lib/db";
import { startPregen } from "../../lib/pipeline/pregen";
import { closeQueues } from "../../lib/pipeline/queues";
import { REAL_MODEL, realModelArena, waitForHealthy } from "./support/arena";
import { expectNoIdentity, recordResponses } from "./support/blind";

// The real model (SmolLM2-135M-Instruct on the test worker's CPU runtime) in both battle modes:
// two arena models share its one served model. Its greedy answer to this question is known to
// be "The capital of France is Paris." On two CPU cores it writes about 5-15 tokens a second.

const QUESTION = "What is the capital of France? Answer in one sentence.";

let models: Model[] = [];
let questionId = "";

test.describe.configure({ mode: "serial" });
test.skip(!REAL_MODEL, "needs the test worker's gpu-runtime serving the real model (npm test starts it)");

test.beforeAll(async () => {
  const arena = await realModelArena(QUESTION);
  models = arena.models;
  questionId = arena.question.id;
  await waitForHealthy(models.map((m) => m.id), 90_000);
});

test.afterAll(async () => {
  // Nothing after this spec should draw these models.
  await db.model.updateMany({ where: { id: { in: models.map((m) => m.id) } }, data: { status: "disabled" } });
  await closeQueues();
  await db.$disconnect();
});

const identities = () => models.flatMap((m) => [m.displayName, m.slug, m.id, m.organisation]);

async function sideTexts(page: Page): Promise<string[]> {
  return Promise.all(["A", "B"].map((side) => page.getByTestId(`side-${side}-0`).locator(".markdown").innerText()));
}

async function voteAndReveal(page: Page, winner: "A" | "B") {
  await page.getByTestId(`vote-${winner}`).click();
  await expect(page.getByTestId("voted")).toBeVisible();
  const revealed = [await page.getByTestId("reveal-A").innerText(), await page.getByTestId("reveal-B").innerText()].sort();
  expect(revealed).toEqual(models.map((m) => m.displayName).sort());
}

test("a bank battle shows the real model's pre-generated answer", async ({ page }) => {
  test.setTimeout(300_000);
  for (const m of models) await startPregen({ modelId: m.id, scope: "ids", questionIds: [questionId] });
  await expect(async () => {
    const generations = await db.generation.findMany({ where: { questionId, modelId: { in: models.map((m) => m.id) }, purpose: "pregen" } });
    const failed = generations.find((g) => g.status === "failed");
    if (failed) throw new Error(`pre-generation failed: ${failed.error}`); // fails the test on timeout with the reason
    expect(generations.filter((g) => g.status === "completed")).toHaveLength(2);
  }).toPass({ timeout: 150_000, intervals: [1000] });

  const bodies = recordResponses(page);
  await page.goto("/battle");
  await expect(page.getByTestId("turn-0-prompt")).toContainText(QUESTION);
  await expect(page.getByTestId("vote-A")).toBeEnabled();
  const texts = await sideTexts(page);
  expect(texts.some((t) => t.includes("Paris")), `answers: ${JSON.stringify(texts)}`).toBe(true);
  await expectNoIdentity(page, bodies, identities());
  await voteAndReveal(page, "A");
});

test("a live battle streams the real model's answer on both sides", async ({ page }) => {
  test.setTimeout(240_000);
  const bodies = recordResponses(page);
  const streams = (["A", "B"] as const).map((side) =>
    page.waitForResponse((r) => r.url().includes("/stream?") && r.url().includes(`side=${side}`) && (r.headers()["content-type"] ?? "").includes("text/event-stream"), { timeout: 60_000 }));

  await page.goto("/battle");
  // The page opens a bank battle first (the previous test left answers): let it land, or it
  // would replace the live prompt form when it does.
  await expect(page.getByTestId("battle").or(page.getByTestId("battle-error"))).toBeVisible();
  await page.getByTestId("mode-live").click();
  await page.getByTestId("prompt-input").fill(QUESTION);
  await page.getByTestId("prompt-submit").click();
  await Promise.all(streams);
  await expect(page.getByTestId("vote-A")).toBeEnabled({ timeout: 180_000 });
  const texts = await sideTexts(page);
  for (const text of texts) expect(text.trim().length, `answers: ${JSON.stringify(texts)}`).toBeGreaterThan(0);
  expect(texts.some((t) => t.includes("Paris")), `answers: ${JSON.stringify(texts)}`).toBe(true);
  await expectNoIdentity(page, bodies, identities());
  await voteAndReveal(page, "B");
});

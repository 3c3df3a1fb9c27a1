import { randomBytes } from "node:crypto";
import { expect, test, type Page } from "@playwright/test";
import type { Model } from "@prisma/client";
import { db } from "@/lib/db";
import { closeChannelHub } from "@/lib/pipeline/hub";
import { closeQueues } from "@/lib/pipeline/queues";
import { GenerationWorkers } from "@/workers/pool";
import { FakeEngine } from "../integration/support/fake-engine";
import { waitForHealthy } from "./support/arena";
import { expectNoIdentity, recordResponses } from "./support/blind";

// A live battle whose side fails for good: the page says so (blind), offers a re-roll of that
// side and a new battle. The models answer through a fake OpenAI-compatible engine, served by a
// worker pool of this spec's own.

test.describe.configure({ mode: "serial" });

const tag = randomBytes(3).toString("hex");
let engine: FakeEngine;
let pool: GenerationWorkers;
let good: Model, broken: Model, spare: Model;

/** Only these models can be drawn. */
async function drawOnly(models: Model[]) {
  await db.model.updateMany({ where: { id: { in: [good.id, broken.id, spare.id] } }, data: { battleWeight: 0 } });
  await db.model.updateMany({ where: { id: { in: models.map((m) => m.id) } }, data: { battleWeight: 1 } });
}

async function sideOf(page: Page, modelId: string): Promise<"A" | "B"> {
  const id = await page.getByTestId("battle").getAttribute("data-battle-id");
  const battle = await db.battle.findUniqueOrThrow({ where: { id: id! } });
  return battle.modelAId === modelId ? "A" : "B";
}

async function startLiveBattle(page: Page, prompt: string) {
  await page.goto("/battle");
  await page.getByTestId("mode-live").click();
  await page.getByTestId("prompt-input").fill(prompt);
  await page.getByTestId("prompt-submit").click();
}

test.beforeAll(async () => {
  await db.model.updateMany({ where: { status: "active" }, data: { status: "disabled" } });
  engine = await new FakeEngine().start();
  const model = (name: string, remoteModel: string) => db.model.create({
    data: { slug: `e2e-${name.toLowerCase()}-${tag}`, displayName: `${name} ${tag}`, organisation: `${name} Labs`, kind: "openai", engine: { baseUrl: engine.baseUrl, remoteModel } },
  });
  good = await model("Steady", "tokens:6:0");
  broken = await model("Brittle", "reject");
  spare = await model("Standby", "tokens:9:0");
  pool = new GenerationWorkers({
    workerId: `e2e-dead-ends-${tag}`, models: [good.slug, broken.slug, spare.slug], refreshMs: 60_000, lockDurationMs: 10_000,
    stalledIntervalMs: 10_000, defaultConcurrency: 4, timeouts: { connectMs: 2_000, firstTokenMs: 10_000, idleMs: 10_000 }, pregen: false,
  });
  await pool.start();
  await waitForHealthy([good.id, broken.id, spare.id]);
});

test.afterAll(async () => {
  await pool?.close(2_000);
  await engine?.stop();
  await db.model.updateMany({ where: { slug: { endsWith: `-${tag}` } }, data: { status: "disabled" } });
  await closeQueues();
  await closeChannelHub();
});

test("a side that fails for good is shown blind and can be re-rolled, then voted on", async ({ page }) => {
  await drawOnly([good, broken]);
  const bodies = recordResponses(page);
  await startLiveBattle(page, "Name a colour.");
  await expect(page.getByTestId("stuck")).toBeVisible();
  const side = await sideOf(page, broken.id);
  await expect(page.getByTestId(`side-error-${side}`)).toBeVisible();
  await expect(page.getByTestId(`reroll-${side}`)).toBeVisible();
  await expect(page.getByTestId(`reroll-${side === "A" ? "B" : "A"}`)).toHaveCount(0);
  await expect(page.getByTestId("vote-A")).toBeDisabled();
  await expectNoIdentity(page, bodies, [good, broken, spare].flatMap((m) => [m.displayName, m.slug, m.id]).concat(engine.baseUrl, "max_tokens"));

  await drawOnly([good, broken, spare]);
  await page.getByTestId(`reroll-${side}`).click();
  await expect(page.getByTestId("vote-A")).toBeEnabled();
  await expect(page.getByTestId(`side-${side}-0`)).toContainText("w8");
  await expect(page.getByTestId("stuck")).toHaveCount(0);
  await expectNoIdentity(page, bodies, [good, broken, spare].flatMap((m) => [m.displayName, m.slug, m.id]));

  await page.getByTestId(`vote-${side}`).click();
  await expect(page.getByTestId("voted")).toBeVisible();
  await expect(page.getByTestId(`reveal-${side}`)).toHaveText(spare.displayName);
});

test("a new battle instead leaves the failed one abandoned and asks the same prompt again", async ({ page }) => {
  await drawOnly([good, broken]);
  await startLiveBattle(page, "Name a fruit.");
  await expect(page.getByTestId("stuck")).toBeVisible();
  const first = await page.getByTestId("battle").getAttribute("data-battle-id");

  await drawOnly([good, spare]);
  await page.getByTestId("new-battle").click();
  await expect(page.getByTestId("battle")).not.toHaveAttribute("data-battle-id", first!);
  await expect(page.getByTestId("turn-0-prompt")).toContainText("Name a fruit.");
  await expect(page.getByTestId("vote-A")).toBeEnabled();
  expect((await db.battle.findUniqueOrThrow({ where: { id: first! } })).status).toBe("abandoned");
});

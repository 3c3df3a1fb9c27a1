import { expect, test } from "@playwright/test";
import { arenaWith, RUNTIME_MODELS, waitForHealthy } from "./support/arena";
import { expectNoIdentity, recordResponses } from "./support/blind";

test.describe.configure({ mode: "serial" });

test("a bank battle stays blind until the vote, renders answers safely, then reveals both models", async ({ page }) => {
  const { bankModels } = await arenaWith({
    bank: [
      { name: "Zephyrine-13B", answer: "**长城**是一道古老的防线。\n\n```python\nprint('hi')\n```" },
      { name: "Quokka-7B", answer: 'Hello <script>window.__xss = 1</script><img src="x" onerror="window.__xss = 2"> [click](javascript:window.__xss=3)' },
    ],
    questions: 2, // the next battle is on the other: the first one's models are known here now
  });
  const bodies = recordResponses(page);
  await page.goto("/battle");
  await expect(page.getByTestId("side-A-0")).toBeVisible();
  await expect(page.getByTestId("vote-A")).toBeEnabled();
  await expect(page.locator(".markdown strong").first()).toBeVisible();

  await expectNoIdentity(page, bodies, bankModels.flatMap((m) => [m.displayName, m.slug, m.id, m.organisation]));

  // The model's HTML is inert: no script element, no event handler, no javascript: link.
  expect(await page.locator(".markdown script").count()).toBe(0);
  expect(await page.locator(".markdown [onerror]").count()).toBe(0);
  expect(await page.locator('.markdown a[href^="javascript"]').count()).toBe(0);
  await page.locator(".markdown a", { hasText: "click" }).click().catch(() => undefined);
  expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
  // It reads as written, tags and all: a voter judges the answer the model gave.
  await expect(page.locator(".markdown", { hasText: '<script>window.__xss = 1</script><img src="x" onerror="window.__xss = 2">' })).toHaveCount(1);

  const firstBattle = await page.getByTestId("battle").getAttribute("data-battle-id");
  await page.getByTestId("vote-reason").fill("更简洁");
  await page.getByTestId("vote-A").click();
  await expect(page.getByTestId("voted")).toBeVisible();
  const revealed = [await page.getByTestId("reveal-A").innerText(), await page.getByTestId("reveal-B").innerText()].sort();
  expect(revealed).toEqual(["Quokka-7B", "Zephyrine-13B"]);

  // Next battle in one click; keyboard shortcut "2" votes for B.
  await page.getByTestId("next-battle").click();
  await expect(page.getByTestId("battle")).not.toHaveAttribute("data-battle-id", firstBattle!);
  await expect(page.getByTestId("vote-B")).toBeEnabled();
  await page.keyboard.press("2");
  await expect(page.getByTestId("voted")).toBeVisible();
});

test("a live battle streams both answers, takes a follow-up turn, and its vote reaches the leaderboard", async ({ page }) => {
  test.skip(RUNTIME_MODELS.length < 2, "needs the test worker's gpu-runtime models (npm test starts them)");
  test.setTimeout(180_000);
  const { runtimeModels } = await arenaWith({ bank: [], runtime: RUNTIME_MODELS });
  await waitForHealthy(runtimeModels.map((m) => m.id));
  const bodies = recordResponses(page);

  await page.goto("/battle");
  await page.getByTestId("mode-live").click();
  await page.getByTestId("prompt-input").fill("x".repeat(5000));
  await expect(page.getByTestId("prompt-too-long")).toBeVisible();
  await expect(page.getByTestId("prompt-submit")).toBeDisabled();
  await page.getByTestId("prompt-input").fill("请写一首关于春天的短诗。");
  await page.getByTestId("prompt-submit").click();
  await expect(page.getByTestId("vote-A")).toBeEnabled({ timeout: 120_000 });
  expect((await page.getByTestId("side-A-0").innerText()).length).toBeGreaterThan(5);
  await expectNoIdentity(page, bodies, runtimeModels.flatMap((m) => [m.displayName, m.slug, m.id]));

  await page.getByTestId("follow-up-input").fill("再写一首关于秋天的。");
  await page.getByTestId("follow-up-submit").click();
  await expect(page.getByTestId("turn-1-prompt")).toContainText("秋天");
  await expect(page.getByTestId("vote-B")).toBeEnabled({ timeout: 120_000 });
  await expectNoIdentity(page, bodies, runtimeModels.flatMap((m) => [m.displayName, m.slug, m.id]));

  await page.getByTestId("vote-B").click();
  await expect(page.getByTestId("voted")).toBeVisible();

  // The ratings job runs a few seconds after the vote; the leaderboard then lists both models.
  const slug = runtimeModels[0]!.slug;
  await expect(async () => {
    await page.goto("/leaderboard");
    // With a handful of battles it is listed as provisional, apart from the ranked table.
    await expect(page.getByTestId(`leaderboard-row-${slug}`).or(page.getByTestId(`provisional-row-${slug}`))).toBeVisible({ timeout: 1000 });
  }).toPass({ timeout: 60_000, intervals: [2000] });
  await expect(page.getByTestId("ci-chart")).toBeVisible();
  await expect(page.getByTestId("win-heatmap")).toBeVisible();
});

import { expect, test, type Request } from "@playwright/test";
import { arenaWith } from "./support/arena";

// The battle page's tabs: a bank battle that arrives after the voter switched to their own
// prompt must not land under the live tab (it used to: the prompt box vanished and the live tab
// stopped responding).

test("the live tab clicked while the first bank battle is loading keeps its prompt box and stays responsive", async ({ page }) => {
  await arenaWith({ bank: [{ name: "Tabby-A", answer: "第一种回答。" }, { name: "Tabby-B", answer: "第二种回答。" }] });
  // Hold the first battle's creation until the voter has switched tabs.
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const held: Request[] = [];
  await page.route("**/api/battles", async (route) => {
    if (route.request().method() !== "POST" || held.length > 0) return route.fallback();
    held.push(route.request());
    await released;
    await route.continue().catch(() => undefined); // the page may have given up on it
  });

  // Finished, or given up by the page (possibly as soon as the tab is clicked).
  let settled = false;
  const settle = (r: Request) => void (r === held[0] && (settled = true));
  page.on("requestfinished", settle);
  page.on("requestfailed", settle);

  await page.goto("/battle");
  await expect.poll(() => held.length).toBe(1);
  await page.getByTestId("mode-live").click();
  await expect(page.getByTestId("prompt-input")).toBeVisible();

  // Let the held response through and wait until the page is done with it.
  release();
  await expect.poll(() => settled).toBe(true);
  await page.waitForLoadState("networkidle");

  await expect(page.getByTestId("mode-live")).toHaveAttribute("aria-selected", "true");
  await expect(page.getByTestId("prompt-input")).toBeVisible();
  await expect(page.getByTestId("battle")).toHaveCount(0);
  await expect(page.getByTestId("battle-error")).toHaveCount(0);

  // Both tabs still answer.
  await page.getByTestId("mode-bank").click();
  await expect(page.getByTestId("vote-A")).toBeEnabled();
  await expect(page.getByTestId("prompt-input")).toHaveCount(0);
  await page.getByTestId("mode-live").click();
  await expect(page.getByTestId("prompt-input")).toBeVisible();
  await expect(page.getByTestId("battle")).toHaveCount(0);
});

test("a vote answered after the voter switched to the live tab leaves that tab as it is", async ({ page }) => {
  await arenaWith({ bank: [{ name: "Tabby-C", answer: "第三种回答。" }, { name: "Tabby-D", answer: "第四种回答。" }] });
  // Hold the vote, then answer it with a refusal once the voter is on the live tab.
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let held = 0;
  await page.route("**/api/battles/*/vote", async (route) => {
    held++;
    await released;
    await route.fulfill({ status: 429, contentType: "application/json", body: JSON.stringify({ error: { code: "rate_limit:vote", message: "HELD-VOTE-REFUSED" } }) }).catch(() => undefined);
  });

  await page.goto("/battle");
  await expect(page.getByTestId("vote-A")).toBeEnabled();
  await page.getByTestId("vote-A").click();
  await expect.poll(() => held).toBe(1);
  await page.getByTestId("mode-live").click();
  await expect(page.getByTestId("prompt-input")).toBeVisible();
  release();
  await page.waitForLoadState("networkidle");

  await expect(page.getByText("HELD-VOTE-REFUSED")).toHaveCount(0);
  await expect(page.getByTestId("prompt-input")).toBeVisible();
  await page.getByTestId("prompt-input").fill("还在吗？");
  await expect(page.getByTestId("prompt-submit")).toBeEnabled();
  await expect(page.getByTestId("battle")).toHaveCount(0);
});

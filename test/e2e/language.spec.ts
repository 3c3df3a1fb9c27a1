import { expect, test, type Page } from "@playwright/test";

// One language per page: a first visit follows the browser's Accept-Language, the switch changes
// it for good (the leitai_lang cookie), every page names itself in the page's language, a refusal
// from the server is said in the page's language, and the site has an icon.

test.use({ locale: "en-US" });

const CHINESE = /[\u3400-\u9fff]/;
const PAGES = ["/", "/battle", "/compare", "/leaderboard", "/models", "/battles", "/signin", "/signup", "/no-such-page"];

/**
 * The bank battle the battle page starts is refused the way a server that does not know the
 * voter's language refuses it (the anonymous vote path answers so): in Chinese, with the
 * catalogue key the page says it by.
 */
async function refuseBankBattles(page: Page) {
  await page.route((url) => url.pathname === "/api/battles", (route) => route.fulfill({
    status: 409,
    contentType: "application/json",
    body: JSON.stringify({ error: { code: "conflict:matchmaking", message: "题库答案尚未就绪：还没有题目同时有两个模型的回答，预生成可能仍在进行。", key: "bankNotReady" } }),
  }));
}

async function titles(page: Page): Promise<string[]> {
  const seen = [];
  for (const path of PAGES) {
    await page.goto(path);
    seen.push(await page.title());
  }
  return seen;
}

test("a first visit follows Accept-Language; the switch turns every page to Chinese", async ({ page, context, baseURL }) => {
  expect(await context.cookies(baseURL)).toEqual([]);
  await refuseBankBattles(page);

  await page.goto("/battle");
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
  await expect(page).toHaveTitle("Battle · Leitai");
  await expect(page.getByTestId("mode-bank")).toHaveText("Bank battle");
  await expect(page.getByTestId("battle-error")).toHaveText("No question has answers from two models yet; pre-generation may still be running.");
  await expect(page.getByRole("navigation").first()).toContainText("Leaderboard");
  await expect(page.getByTestId("lang-switch")).toHaveText("中文");

  await page.goto("/leaderboard");
  await expect(page).toHaveTitle("Leaderboard · Leitai");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Leaderboard");

  const english = await titles(page);
  expect(new Set(english).size, english.join(" | ")).toBe(PAGES.length);
  for (const title of english) expect(title, title).not.toMatch(CHINESE);

  // The switch: a cookie that outweighs the browser's Accept-Language from now on.
  await page.goto("/leaderboard");
  await page.getByTestId("lang-switch").click();
  await expect(page.locator("html")).toHaveAttribute("lang", "zh-CN");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("排行榜");
  await expect(page).toHaveTitle("排行榜 · 擂台");
  expect((await context.cookies(baseURL)).find((c) => c.name === "leitai_lang")?.value).toBe("zh");

  await page.goto("/battle");
  await expect(page).toHaveTitle("对战 · 擂台");
  await expect(page.getByTestId("mode-bank")).toHaveText("题库对战");
  await expect(page.getByTestId("battle-error")).toHaveText("题库答案尚未就绪：还没有题目同时有两个模型的回答，预生成可能仍在进行。");
  await expect(page.getByTestId("lang-switch")).toHaveText("English");

  const chinese = await titles(page);
  expect(new Set(chinese).size, chinese.join(" | ")).toBe(PAGES.length);
  for (const title of chinese) expect(title, title).toMatch(CHINESE);

  // And back.
  await page.getByTestId("lang-switch").click();
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
});

test.describe("a browser that asks for Chinese", () => {
  test.use({ locale: "zh-CN" });

  test("gets Chinese on its first visit", async ({ page }) => {
    await refuseBankBattles(page);
    await page.goto("/battle");
    await expect(page.locator("html")).toHaveAttribute("lang", "zh-CN");
    await expect(page).toHaveTitle("对战 · 擂台");
    await expect(page.getByTestId("mode-bank")).toHaveText("题库对战");
  });
});

test("/favicon.ico is the site's icon", async ({ request }) => {
  const res = await request.get("/favicon.ico");
  expect(res.status()).toBe(200);
  expect(res.headers()["content-type"]).toMatch(/icon/);
  expect((await res.body()).subarray(0, 4)).toEqual(Buffer.from([0, 0, 1, 0]));
});

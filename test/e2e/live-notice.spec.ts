import { expect, test, type Page } from "@playwright/test";
import { arenaWith } from "./support/arena";

// Before a voter's first live prompt the battle page says that prompts and answers may be shown
// publicly and used for the leaderboard and data exports, in the page's language; once dismissed
// (or once a prompt is sent) this browser does not show it again.

const TEXT = {
  zh: ["可能会公开展示", "排行榜", "数据导出"],
  en: ["may be shown publicly", "leaderboard", "data exports"],
} as const;

async function openLiveTab(page: Page, expected: "shown" | "seen") {
  await page.goto("/battle");
  await expect(page.getByTestId("arena")).toHaveAttribute("data-live-notice", expected);
  await page.getByTestId("mode-live").click();
  await expect(page.getByTestId("prompt-input")).toBeVisible();
}

test.beforeAll(async () => {
  await arenaWith({ bank: [{ name: "Notice-A", answer: "甲。" }, { name: "Notice-B", answer: "乙。" }] });
});

for (const lang of ["zh", "en"] as const) {
  test(`the live prompt notice is shown once, in ${lang}`, async ({ page, context, baseURL }) => {
    await context.addCookies([{ name: "leitai_lang", value: lang, url: baseURL! }]);
    await openLiveTab(page, "shown");
    const notice = page.getByTestId("live-notice");
    for (const part of TEXT[lang]) await expect(notice).toContainText(part);
    await expect(notice).not.toContainText(TEXT[lang === "zh" ? "en" : "zh"][0]);
    await page.getByTestId("live-notice-ok").click();
    await expect(notice).toHaveCount(0);

    await openLiveTab(page, "seen");
    await expect(notice).toHaveCount(0);
  });
}

test("sending the first live prompt counts as having read the notice", async ({ page }) => {
  await openLiveTab(page, "shown");
  await expect(page.getByTestId("live-notice")).toBeVisible();
  await page.getByTestId("prompt-input").fill("长城有多长？");
  await page.getByTestId("prompt-submit").click();
  await expect(page.getByTestId("live-notice")).toHaveCount(0);
  await openLiveTab(page, "seen");
  await expect(page.getByTestId("live-notice")).toHaveCount(0);
});

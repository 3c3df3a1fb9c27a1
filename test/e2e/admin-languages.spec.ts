import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { expect, test, type BrowserContext, type Page } from "@playwright/test";
import { db } from "../../lib/db";
import { questionTextHash } from "../../lib/questions";
import { signInAsAdmin } from "./support/admin";

// Every admin page in one language: a full-page screenshot of each in Chinese and in English
// (test-results/admin-languages/<lang>-<page>.png), and a check of each. An English page shows no
// Chinese; a Chinese page words its chrome (nav, headings, buttons, table heads, labels) in
// Chinese. Stored data is not the page's language to choose: an element that holds it says so
// with a `lang` attribute naming its language (a question's text, a category's Chinese name) or,
// when its language is unknown (a model's name, an engine's error), with `data-stored`; both are
// left out of the check.

const run = randomBytes(4).toString("hex");
const SHOTS = "test-results/admin-languages";
const NAV = ["overview", "models", "questions", "categories", "pregen", "judge", "votes", "ratings", "settings", "users", "system", "audit"];

/** CJK ideographs, CJK punctuation and full-width forms, as test/unit/i18n.test.ts counts Chinese. */
const CHINESE = /[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]/u;
/** Names a Chinese page may leave as they are: products, formats, units and the arena's technical terms. */
const NAMES = new Set([
  "postgresql", "redis", "slug", "json", "jsonl", "csv", "elo", "bradley", "terry", "ttft", "jinja", "http", "https", "api", "url",
  "openai", "vllm", "sglang", "gpu", "cpu", "tok", "eta", "lora", "hugging", "face", "utf", "id", "ids", "p", "max", "min", "top", "temperature",
]);

type Fixtures = { modelId: string; questionId: string; judgeRunId: string };
let fixtures: Fixtures;

test.beforeAll(async () => {
  // Enough of everything that each page shows rows, not only its empty states: two models (off the
  // matchmaking), a question, a vote between them, a finished judge run with its (empty) summary.
  const category = await db.category.findFirstOrThrow({ orderBy: { sortOrder: "asc" } });
  const [a, b] = await Promise.all([0, 1].map((i) =>
    db.model.create({ data: { slug: `e2e-lang-${run}-${i}`, displayName: `E2E lang ${run} ${i}`, kind: "openai", status: "disabled", battleWeight: 0 } })));
  const text = `E2E language check ${run}: which is larger, 9.11 or 9.9?`;
  const question = await db.question.create({ data: { text, textHash: questionTextHash(text), categoryId: category.id, language: "en", active: false } });
  const voterKey = `anon:e2e-lang-${run}`;
  const battle = await db.battle.create({ data: { mode: "bank", modelAId: a!.id, modelBId: b!.id, voterKey, ipHash: `ip-${run}`, status: "voted" } });
  await db.vote.create({ data: { battleId: battle.id, winner: "tie", voterKey, ipHash: `ip-${run}`, modelAId: a!.id, modelBId: b!.id, rated: false } });
  const judgeRun = await db.judgeRun.create({
    data: { judgeModelId: a!.id, contestantIds: [a!.id, b!.id], template: "pairwise", outputKind: "pairwise", lang: "en", status: "completed", finishedAt: new Date() },
  });
  fixtures = { modelId: a!.id, questionId: question.id, judgeRunId: judgeRun.id };
});

test.afterAll(async () => {
  await db.judgeRun.deleteMany({ where: { id: fixtures.judgeRunId } });
  await db.vote.deleteMany({ where: { voterKey: `anon:e2e-lang-${run}` } });
  await db.battle.deleteMany({ where: { voterKey: `anon:e2e-lang-${run}` } });
  await db.question.deleteMany({ where: { id: fixtures.questionId } });
  await db.model.deleteMany({ where: { slug: { startsWith: `e2e-lang-${run}-` } } });
});

function pages(f: Fixtures): [name: string, path: string][] {
  return [
    ["overview", "/admin"],
    ["models", "/admin/models"],
    ["models-new", "/admin/models/new"],
    ["model", `/admin/models/${f.modelId}`],
    ["questions", "/admin/questions"],
    ["question", `/admin/questions/${f.questionId}`],
    ["questions-import", "/admin/questions/import"],
    ["categories", "/admin/categories"],
    ["pregen", "/admin/pregen"],
    ["judge", "/admin/judge"],
    ["judge-run", `/admin/judge/${f.judgeRunId}`],
    ["votes", "/admin/votes"],
    ["ratings", "/admin/ratings"],
    ["settings", "/admin/settings"],
    ["users", "/admin/users"],
    ["system", "/admin/system"],
    ["audit", "/admin/audit"],
    ["account", "/account"],
  ];
}

async function speak(context: BrowserContext, baseURL: string | undefined, lang: "zh" | "en") {
  await context.addCookies([{ name: "leitai_lang", value: lang, url: baseURL! }]);
}

/**
 * What the page says: each visible text and each visible control's placeholder, title and
 * aria-label, with the elements it belongs to, leaving out stored data (see the top).
 */
async function pageTexts(page: Page): Promise<{ text: string; tag: string; chrome: boolean }[]> {
  return page.evaluate(() => {
    const pageLang = document.documentElement.lang.split("-")[0];
    const stored = (el: Element) => {
      if (el.closest("[data-stored]")) return true;
      const lang = el.closest("[lang]")?.getAttribute("lang") ?? "";
      return lang.split("-")[0] !== pageLang;
    };
    // The page's own words: links and a select's options often hold data (names, questions), so
    // only the nav's links count (checked by name below) and an option never does.
    const CHROME = "nav, h1, h2, h3, h4, button, th, label, legend, summary";
    const seen: { text: string; tag: string; chrome: boolean }[] = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const el = node.parentElement;
      const text = node.textContent?.trim() ?? "";
      if (!el || !text || el.closest("script, style, noscript, template") || stored(el)) continue;
      // A select's options are what it offers, shown or not.
      const shown = el.closest("option") ? el.closest("select")!.checkVisibility() : el.checkVisibility({ visibilityProperty: true });
      if (!shown) continue;
      const chrome = el.closest("option") ? null : el.closest(CHROME);
      seen.push({ text, tag: (chrome ?? el).tagName.toLowerCase(), chrome: chrome !== null });
    }
    for (const el of document.querySelectorAll("[placeholder], [title], [aria-label]")) {
      if (stored(el) || !el.checkVisibility()) continue;
      for (const name of ["placeholder", "title", "aria-label"]) {
        const text = el.getAttribute(name)?.trim();
        if (text) seen.push({ text, tag: `${el.tagName.toLowerCase()}[${name}]`, chrome: true });
      }
    }
    return seen;
  });
}

/** English words a Chinese page's chrome should not hold: Latin words of three letters or more that are not names. */
function englishWords(text: string): string[] {
  return (text.match(/[A-Za-z]{3,}/g) ?? []).filter((w) => !NAMES.has(w.toLowerCase()));
}

async function shoot(page: Page, lang: string, name: string) {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: `${SHOTS}/${lang}-${name}.png`, fullPage: true });
}

test("every admin page in English shows no Chinese", async ({ page, context, baseURL }) => {
  test.setTimeout(180_000);
  await speak(context, baseURL, "en");
  await signInAsAdmin(page);
  const offenders: string[] = [];
  for (const [name, path] of pages(fixtures)) {
    const res = await page.goto(path);
    expect(res?.status(), path).toBe(200);
    await expect(page.locator("html")).toHaveAttribute("lang", "en");
    await expect(page.locator("h1").first()).toBeVisible();
    await shoot(page, "en", name);
    expect(await page.title(), `${path}: its title`).not.toMatch(CHINESE);
    for (const t of await pageTexts(page)) if (CHINESE.test(t.text)) offenders.push(`${path} <${t.tag}> ${t.text}`);
  }
  expect(offenders).toEqual([]);
});

test("every admin page in Chinese words its nav, headings, buttons and labels in Chinese", async ({ page, context, baseURL }) => {
  test.setTimeout(180_000);
  await speak(context, baseURL, "zh");
  await signInAsAdmin(page);
  const offenders: string[] = [];
  for (const [name, path] of pages(fixtures)) {
    const res = await page.goto(path);
    expect(res?.status(), path).toBe(200);
    await expect(page.locator("html")).toHaveAttribute("lang", "zh-CN");
    await expect(page.locator("h1").first()).toBeVisible();
    await shoot(page, "zh", name);
    expect(await page.title(), `${path}: its title`).toMatch(CHINESE);
    if (path.startsWith("/admin")) {
      for (const key of NAV) await expect(page.getByTestId(`admin-nav-${key}`), `${path}: the nav`).toHaveText(CHINESE);
    }
    const texts = await pageTexts(page);
    if (!texts.some((t) => t.tag === "h1" && CHINESE.test(t.text))) offenders.push(`${path}: its heading holds no Chinese`);
    for (const t of texts) {
      if (t.chrome && !CHINESE.test(t.text) && englishWords(t.text).length) offenders.push(`${path} <${t.tag}> ${t.text}`);
    }
  }
  expect(offenders).toEqual([]);
});

test("the queue console follows the language: Bull Board's own locale and our queue names", async ({ page, context, baseURL }) => {
  // Every model that is not retired has its queues listed, these disabled ones too.
  const lane = `e2e-lang-${run}-0`;
  await speak(context, baseURL, "zh");
  await signInAsAdmin(page);
  await page.goto("/admin/queues");
  await expect(page.getByRole("link", { name: `${lane} · 自由提问` })).toBeVisible();
  await expect(page.getByRole("searchbox", { name: "筛选队列" })).toBeVisible();
  await shoot(page, "zh", "queues");

  await speak(context, baseURL, "en");
  await page.goto("/admin/queues");
  await expect(page.getByRole("link", { name: `${lane} · live` })).toBeVisible();
  await expect(page.getByRole("searchbox", { name: "Filter queues" })).toBeVisible();
  await shoot(page, "en", "queues");
  expect((await pageTexts(page)).filter((t) => CHINESE.test(t.text)).map((t) => `<${t.tag}> ${t.text}`)).toEqual([]);
});

test("the start forms say what is missing beside each field, in the page's language", async ({ page, context, baseURL }) => {
  await speak(context, baseURL, "zh");
  await signInAsAdmin(page);
  await page.goto("/admin/pregen");
  await page.getByTestId("pregen-start").click();
  await expect(page.getByTestId("field-error-modelIds")).toHaveText("请至少选择一个模型。");

  await speak(context, baseURL, "en");
  await page.goto("/admin/judge");
  const form = page.getByTestId("judge-form");
  await form.getByLabel("Template").selectOption("custom");
  await form.locator('textarea[name="customTemplate"]').fill("Which answer to {question} is better? {answer_a}");
  await form.getByRole("button", { name: "Start" }).click();
  await expect(form.getByTestId("field-error-contestantIds")).toHaveText("Pick at least two contestants.");
  await expect(form.getByTestId("field-error-customTemplate")).toHaveText("Missing placeholder {answer_b}.");

  await page.goto(`/admin/votes?voterKey=${encodeURIComponent(`anon:e2e-lang-${run}`)}`);
  await page.getByTestId("vote-select").first().check();
  await page.getByTestId("vote-invalidate-selected").click();
  await expect(page.getByTestId("field-error-reason")).toHaveText("Give a reason for invalidating votes.");
  expect(await db.vote.count({ where: { voterKey: `anon:e2e-lang-${run}`, valid: false } })).toBe(0);
});

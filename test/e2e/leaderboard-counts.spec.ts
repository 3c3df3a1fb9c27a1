import { randomBytes } from "node:crypto";
import { expect, test, type Page } from "@playwright/test";
import { computeAndStoreRatingRun } from "@/lib/arena/ratings-job";
import { db } from "@/lib/db";
import { questionTextHash } from "@/lib/questions";

// The leaderboard after 2 votes and after 200, in a category of its own (other specs' votes
// share the database): provisional models apart and unranked, ranked ones in an order a voter
// can follow, the CI chart drawing what exists, and a phone-sized page that still reads.
// Screenshots go to test-results/leaderboard/ for a person to look at.

test.describe.configure({ mode: "serial" });

const tag = randomBytes(3).toString("hex");
const SHOTS = "test-results/leaderboard";
const DESKTOP = { width: 1366, height: 900 };
const PHONE = { width: 390, height: 844 };

// Names as long as real ones get: a quantised long-context variant, and a Chinese name.
const MODELS = [
  { key: "alpaca", name: "Chinese-Alpaca-2-13B-16K-Instruct-GPTQ-int4-v2.1", strength: 260 },
  { key: "qwen", name: "通义千问 Qwen1.5-72B-Chat（长上下文版）", strength: 200 },
  { key: "llama", name: "Llama-2-7B-Chat", strength: 0 },
  { key: "mistral", name: "Mistral-7B-Instruct-v0.2", strength: 120 },
  { key: "baichuan", name: "Baichuan2-13B-Chat", strength: 60 },
  { key: "yi", name: "Yi-34B-Chat", strength: 160 },
  { key: "giant", name: "Unbeaten-Giant-70B", strength: 0 },
  { key: "newcomer", name: "Newcomer-1.3B", strength: 0 },
] as const;
type Key = (typeof MODELS)[number]["key"];

let category: { id: string; slug: string };
let models: Record<Key, { id: string; slug: string }>;
let answers: Record<Key, string>;
let battleCount = 0;

/** A seeded stream of numbers in [0, 1) (a 32-bit LCG): the same 200 votes every run. */
function lcg(seed: number) {
  let state = seed >>> 0;
  return () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** Bank battles with their votes, written as the arena writes them, in this category. */
async function vote(battles: [Key, Key, "A" | "B" | "tie"][]) {
  const rows = battles.map(([a, b, winner]) => ({ id: `e2e-board-${tag}-${battleCount++}`, a: models[a].id, b: models[b].id, ga: answers[a], gb: answers[b], winner }));
  const voterKey = `e2e-board-${tag}`;
  await db.battle.createMany({
    data: rows.map((r) => ({ id: r.id, mode: "bank" as const, categoryId: category.id, modelAId: r.a, modelBId: r.b, voterKey, ipHash: voterKey, status: "voted" as const })),
  });
  await db.battleGeneration.createMany({
    data: rows.flatMap((r) => [{ battleId: r.id, side: "A" as const, generationId: r.ga }, { battleId: r.id, side: "B" as const, generationId: r.gb }]),
  });
  await db.vote.createMany({
    data: rows.map((r) => ({ battleId: r.id, winner: r.winner, voterKey, ipHash: voterKey, modelAId: r.a, modelBId: r.b, categoryId: category.id })),
  });
}

async function shoot(page: Page, name: string, size: { width: number; height: number }, lang: "zh" | "en" = "zh") {
  await page.context().addCookies([{ name: "leitai_lang", value: lang, url: test.info().project.use.baseURL! }]);
  await page.setViewportSize(size);
  await page.goto(`/leaderboard?category=${category.slug}`);
  await expect(page.getByTestId("leaderboard")).toBeVisible();
  await page.screenshot({ path: `${SHOTS}/${name}-${size.width}x${size.height}-${lang}.png`, fullPage: true });
}

/** The page fits the phone's width, and so do the tables: no column runs off the screen. */
async function expectFitsWidth(page: Page) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  const tables = await page.locator("[data-testid=leaderboard-table], [data-testid=provisional-table]").evaluateAll((els) =>
    els.map((table) => table.parentElement!.scrollWidth - table.parentElement!.clientWidth));
  for (const hidden of tables) expect(hidden).toBeLessThanOrEqual(0);
}

/** No model name in the tables takes more than two lines. */
async function expectNamesInTwoLines(page: Page) {
  const lines = await page.locator("[data-testid=leaderboard-table] td a, [data-testid=provisional-table] td a").evaluateAll((links) =>
    links.map((a) => a.getBoundingClientRect().height / parseFloat(getComputedStyle(a).lineHeight)));
  expect(lines.length).toBeGreaterThan(0);
  for (const n of lines) expect(n).toBeLessThanOrEqual(2.05);
}

test.beforeAll(async () => {
  category = await db.category.create({ data: { slug: `e2e-board-${tag}`, nameZh: `排行测试 ${tag}`, nameEn: `Board test ${tag}`, sortOrder: 999 } });
  const text = `E2E ${tag}: 用三句话介绍长城。`;
  const question = await db.question.create({ data: { text, textHash: questionTextHash(text), categoryId: category.id, language: "zh", active: false } });
  models = {} as typeof models;
  answers = {} as typeof answers;
  for (const [i, m] of MODELS.entries()) {
    // Disabled: on the leaderboard through their votes, never drawn into other specs' battles.
    const model = await db.model.create({ data: { slug: `e2e-board-${m.key}-${tag}`, displayName: m.name, organisation: "Board Labs", kind: "local", status: "disabled", engine: { path: "/nonexistent" } } });
    const answer = await db.generation.create({
      data: { modelId: model.id, questionId: question.id, purpose: "pregen", status: "completed", messages: [{ role: "user", content: text }], text: `长城${"很长。".repeat(i + 1)}`, finishedAt: new Date() },
    });
    models[m.key] = model;
    answers[m.key] = answer.id;
  }
});

test.afterAll(async () => {
  await db.battle.deleteMany({ where: { categoryId: category.id } });
  await computeAndStoreRatingRun({ bootstrapRounds: 0 });
});

test("after 2 votes nobody is ranked: the two unbeaten models and the one they beat are provisional", async ({ page }) => {
  await vote([["alpaca", "llama", "A"], ["llama", "qwen", "B"]]);
  await computeAndStoreRatingRun({ bootstrapRounds: 100 });

  await shoot(page, "02-votes", DESKTOP);
  await expect(page.getByTestId("leaderboard-none-ranked")).toContainText("20");
  await expect(page.getByTestId("leaderboard-table")).toHaveCount(0);
  const provisional = page.getByTestId("provisional-table");
  // An undefeated model with one battle: listed apart, with no rank and no rating to compare.
  for (const key of ["alpaca", "qwen", "llama"] as const) await expect(provisional.getByTestId(`provisional-row-${models[key].slug}`)).toBeVisible();
  await expect(provisional.getByTestId(`provisional-row-${models.alpaca.slug}`)).toContainText("1–0–0");
  await expect(provisional.getByTestId(`provisional-row-${models.llama.slug}`)).toContainText("0–2–0");
  await expect(page.getByTestId(`rank-${models.alpaca.slug}`)).toHaveCount(0);
  await expect(page.getByTestId("provisional")).not.toContainText("364");
  await expect(page.getByTestId("ci-chart")).not.toContainText("Alpaca");

  const api = await (await page.request.get("/api/leaderboard")).json() as {
    minBattlesRanked: number;
    leaderboard: { categories: Record<string, { ranked: unknown[]; provisional: { model: string; rank: number | null; provisional: boolean }[]; models: { model: string }[] }> };
  };
  const scope = api.leaderboard.categories[category.slug]!;
  expect(api.minBattlesRanked).toBe(20);
  expect(scope.ranked).toEqual([]);
  expect(scope.provisional.find((r) => r.model === models.alpaca.id)).toMatchObject({ rank: null, provisional: true });
  expect(scope.models).toHaveLength(3);

  await shoot(page, "02-votes", PHONE);
  await expectFitsWidth(page);
  await expectNamesInTwoLines(page);
});

test("after 200 votes: ranked in order, an unbeaten model on top with an open interval, a newcomer apart", async ({ page }) => {
  const random = lcg(2026);
  const regular: Key[] = ["alpaca", "qwen", "llama", "mistral", "baichuan", "yi"];
  const strength = Object.fromEntries(MODELS.map((m) => [m.key, m.strength])) as Record<Key, number>;
  const battles: [Key, Key, "A" | "B" | "tie"][] = [];
  // The giant wins all 24 of its battles; the newcomer has 3 so far; the rest play each other.
  for (let i = 0; i < 24; i++) battles.push(i % 2 ? ["giant", regular[i % 6]!, "A"] : [regular[i % 6]!, "giant", "B"]);
  battles.push(["newcomer", "llama", "A"], ["mistral", "newcomer", "A"], ["newcomer", "yi", "tie"]);
  while (battles.length < 198) {
    const a = regular[Math.floor(random() * 6)]!;
    const b = regular[Math.floor(random() * 6)]!;
    if (a === b) continue;
    const pA = 1 / (1 + 10 ** ((strength[b] - strength[a]) / 400));
    const u = random();
    battles.push([a, b, u < 0.08 ? "tie" : random() < pA ? "A" : "B"]);
  }
  await vote(battles);
  await computeAndStoreRatingRun({ bootstrapRounds: 100 });

  await shoot(page, "200-votes", DESKTOP);
  const table = page.getByTestId("leaderboard-table");
  await expect(page.getByTestId("leaderboard-rule")).toContainText("排序");
  const rows = table.locator("tbody tr");
  await expect(rows).toHaveCount(7);
  const ranks = (await rows.evaluateAll((trs) => trs.map((tr) => Number(tr.getAttribute("data-rank")))));
  expect(ranks).toEqual([...ranks].sort((x, y) => x - y));
  // The unbeaten giant: first (it beat every ranked model), rank 1, its bound and an open interval.
  await expect(rows.first()).toHaveAttribute("data-testid", `leaderboard-row-${models.giant.slug}`);
  await expect(page.getByTestId(`rank-${models.giant.slug}`)).toHaveText("1");
  await expect(page.getByTestId(`rating-${models.giant.slug}`)).toHaveText(/^> \d+$/);
  await expect(page.getByTestId(`interval-${models.giant.slug}`)).toHaveText(/^\d+ – ∞$/);
  // In the chart: an arrow on the open side, no dot at the bound; finite intervals get their dot.
  await expect(page.getByTestId(`ci-${models.giant.slug}-arrow-high`)).toHaveCount(1);
  await expect(page.getByTestId(`ci-${models.giant.slug}-dot`)).toHaveCount(0);
  await expect(page.getByTestId(`ci-${models.alpaca.slug}-dot`)).toHaveCount(1);
  await expect(page.getByTestId(`ci-${models.alpaca.slug}-arrow-high`)).toHaveCount(0);
  // The newcomer (3 battles, one of them a win) is apart, not ranked above or below anyone.
  await expect(page.getByTestId("provisional-table").getByTestId(`provisional-row-${models.newcomer.slug}`)).toContainText("1–1–1");
  await expect(table.getByTestId(`leaderboard-row-${models.newcomer.slug}`)).toHaveCount(0);
  // A long name is cut to its box, the whole of it in the title.
  await expect(page.getByTestId(`ci-row-${models.alpaca.slug}`).locator("div").first()).toHaveAttribute("title", new RegExp(MODELS[0].name));
  await expect(page.getByTestId("win-heatmap").locator("th[title]").first()).toBeVisible();

  await shoot(page, "200-votes", DESKTOP, "en");
  await expect(page.getByTestId("leaderboard-rule")).toContainText("a model that never lost is never listed below a model it beat");

  await shoot(page, "200-votes", PHONE);
  await expectFitsWidth(page);
  await expectNamesInTwoLines(page);
  // On a phone the online Elo and the win rate make room for the rest.
  const headers = await table.locator("thead th").evaluateAll((ths) => ths.map((th) => getComputedStyle(th).display !== "none"));
  expect(headers).toEqual([true, true, true, true, false, false, true]);
  const box = await page.getByTestId("win-heatmap").locator("td").first().boundingBox();
  expect(box!.width).toBeGreaterThanOrEqual(30); // cells (and their labels) keep a readable size
});

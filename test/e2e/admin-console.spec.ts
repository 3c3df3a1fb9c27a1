import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { db } from "../../lib/db";
import { signInAsAdmin } from "./support/admin";

// The admin console in Chromium. The model test and pre-generation need a gpu-runtime serving a
// demo model at LEITAI_E2E_RUNTIME_URL (default: the one scripts/test.sh starts) and a worker on
// the same database and Redis; without them those two tests are skipped with the reason.

const runtimeUrl = (process.env.LEITAI_E2E_RUNTIME_URL ?? "http://127.0.0.1:8310").replace(/\/+$/, "");
const runtimeModels = (process.env.LEITAI_E2E_RUNTIME_MODELS ?? "").split(",").filter(Boolean);
/** npm test started a runtime (and names its models): a probe that finds none is a failure, never a skip. */
const runtimeExpected = runtimeModels.length > 0;
const run = randomBytes(4).toString("hex");

/** The first model the runtime serves, or null when no runtime answers. */
async function servedDemoModel(): Promise<string | null> {
  try {
    const res = await fetch(`${runtimeUrl}/v1/models`, { signal: AbortSignal.timeout(3000) });
    const ids = ((await res.json()) as { data?: { id: string }[] }).data?.map((m) => m.id) ?? [];
    return runtimeModels.find((name) => ids.includes(name)) ?? ids[0] ?? null;
  } catch {
    return null;
  }
}

async function addLocalModel(page: Page, slug: string, servedName: string) {
  await page.goto("/admin/models/new");
  await page.getByTestId("model-kind").selectOption("local");
  await page.getByTestId("model-displayName").fill(`Demo ${slug}`);
  await page.getByTestId("model-slug").fill(slug);
  await page.getByTestId("model-path").fill(`/models/${servedName}`);
  await page.getByTestId("model-runtimeUrl").fill(runtimeUrl);
  await page.getByTestId("model-servedName").fill(servedName);
  await page.getByTestId("model-maxTokens").fill("32");
  await page.getByTestId("model-save").click();
  await expect(page).toHaveURL(/\/admin\/models\/[a-z0-9]+/);
  await expect(page.getByTestId("model-status")).toHaveText("active");
  return page.url().split("/").pop()!.split("?")[0]!;
}

test.beforeEach(async ({ page }) => {
  await signInAsAdmin(page);
});

test("add a local demo model and test it: streamed text, TTFT and tokens/s", async ({ page }) => {
  const served = await servedDemoModel();
  test.skip(!served && !runtimeExpected, `needs a gpu-runtime serving a demo model at ${runtimeUrl} and a running worker`);
  expect(served, `npm test started a runtime at ${runtimeUrl}, but it serves none of ${runtimeModels.join(", ")}`).not.toBeNull();
  await addLocalModel(page, `e2e-demo-${run}`, served!);
  await expect(page.getByTestId("model-last-check")).toContainText(served!);
  await page.getByTestId("model-test-prompt").fill("你好，请介绍一下你自己。");
  await page.getByTestId("model-test-run").click();
  await expect(page.getByTestId("model-test-output")).not.toBeEmpty({ timeout: 60_000 });
  await expect(page.getByTestId("model-test-state")).toHaveAttribute("data-state", "done", { timeout: 60_000 });
  await expect(page.getByTestId("model-test-ttft")).toContainText(/TTFT \d+ ms/);
  await expect(page.getByTestId("model-test-tps")).toContainText("tokens/s");
  await page.goto("/admin/models");
  await expect(page.getByTestId(`model-status-e2e-demo-${run}`)).toHaveText("active");
});

test("chat template: custom needs Jinja (a field error that keeps the form); the runtime's verdict on the saved one", async ({ page }) => {
  const slug = `e2e-tpl-${run}`;
  const jinja = "{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}assistant:";
  await page.goto("/admin/models/new");
  await page.getByTestId("model-displayName").fill(`Template ${slug}`);
  await page.getByTestId("model-slug").fill(slug);
  await page.getByTestId("model-path").fill("/models/none.gguf");
  await page.getByTestId("model-seed").fill("1234");
  await expect(page.getByTestId("model-chatTemplate")).toHaveValue("auto");
  await expect(page.getByTestId("model-chatTemplate-hint")).toContainText("the runtime uses its default");
  await expect(page.getByTestId("model-chatTemplateJinja")).toBeHidden();
  await page.getByTestId("model-chatTemplate").selectOption("custom");
  await expect(page.getByTestId("model-chatTemplateJinja")).toBeVisible();

  await page.getByTestId("model-save").click();
  await expect(page.getByTestId("model-error-chatTemplateJinja")).toContainText("A custom chat template needs its Jinja source.");
  await expect(page).toHaveURL(/\/admin\/models\/new$/);
  await expect(page.getByTestId("model-displayName")).toHaveValue(`Template ${slug}`);
  await expect(page.getByTestId("model-seed")).toHaveValue("1234");
  await expect(page.getByTestId("model-chatTemplate")).toHaveValue("custom");
  expect(await db.model.count({ where: { slug } })).toBe(0);

  // The Jinja box is hidden, not cleared, while another template is chosen.
  await page.getByTestId("model-chatTemplateJinja").fill(jinja);
  await page.getByTestId("model-chatTemplate").selectOption("plain");
  await expect(page.getByTestId("model-chatTemplateJinja")).toBeHidden();
  await page.getByTestId("model-chatTemplate").selectOption("custom");
  await expect(page.getByTestId("model-chatTemplateJinja")).toHaveValue(jinja);

  // "model" on a checkpoint without a template of its own: the runtime says so, the model is disabled.
  const served = await servedDemoModel();
  test.skip(!served && !runtimeExpected, `needs a gpu-runtime serving a demo model at ${runtimeUrl}`);
  expect(served, `npm test started a runtime at ${runtimeUrl}, but it serves none of ${runtimeModels.join(", ")}`).not.toBeNull();
  await page.getByTestId("model-runtimeUrl").fill(runtimeUrl);
  await page.getByTestId("model-servedName").fill(served!);
  await page.getByTestId("model-chatTemplate").selectOption("model");
  await page.getByTestId("model-save").click();
  await expect(page).toHaveURL(/\/admin\/models\/[a-z0-9]+/);
  await expect(page.getByTestId("model-status")).toHaveText("disabled");
  await expect(page.getByTestId("model-last-check")).toContainText("rejects the chat template");
  await expect(page.getByTestId("model-chatTemplate")).toHaveValue("model");
  await expect(page.getByTestId("model-seed")).toHaveValue("1234");

  // The custom Jinja renders: saved again, the check passes (the model stays disabled until enabled).
  await page.getByTestId("model-chatTemplate").selectOption("custom");
  await expect(page.getByTestId("model-chatTemplateJinja")).toHaveValue(jinja);
  await page.getByTestId("model-save").click();
  await expect(page.getByTestId("model-check")).toContainText("accepts its chat template");
  await page.getByTestId("model-enable").click();
  await expect(page.getByTestId("model-status")).toHaveText("active");
});

test("speculative draft: a path that does not exist is a field error that keeps the form; the saved one is shown beside the runtime's view", async ({ page }) => {
  const slug = `e2e-draft-${run}`;
  await page.goto("/admin/models/new");
  await page.getByTestId("model-displayName").fill(`Drafted ${slug}`);
  await page.getByTestId("model-slug").fill(slug);
  await page.getByTestId("model-path").fill("/models/alpaca-7b");
  // A served name this runtime does not serve: the worker leaves the runtime alone.
  await page.getByTestId("model-runtimeUrl").fill(runtimeUrl);
  await page.getByTestId("model-servedName").fill(`not-served-${run}`);
  await page.getByTestId("model-draftPath").fill(`/nonexistent/draft-${run}`);
  await page.getByTestId("model-numSpeculativeTokens").fill("3");
  await page.getByTestId("model-save").click();
  await expect(page.getByTestId("model-error-draftPath")).toContainText("does not exist on this machine");
  await expect(page).toHaveURL(/\/admin\/models\/new$/);
  await expect(page.getByTestId("model-displayName")).toHaveValue(`Drafted ${slug}`);
  await expect(page.getByTestId("model-numSpeculativeTokens")).toHaveValue("3");
  expect(await db.model.count({ where: { slug } })).toBe(0);

  const draft = mkdtempSync(path.join(tmpdir(), "leitai-e2e-draft-"));
  await page.getByTestId("model-draftPath").fill(draft);
  await page.getByTestId("model-save").click();
  await expect(page).toHaveURL(/\/admin\/models\/[a-z0-9]+/);
  await expect(page.getByTestId("model-draft-status")).toHaveAttribute("data-state", "unknown");
  await expect(page.getByTestId("model-draft-status")).toContainText(`${draft} · 3 tokens per step`);
  await expect(page.getByTestId("model-draftPath")).toHaveValue(draft);
  await expect(page.getByTestId("model-numSpeculativeTokens")).toHaveValue("3");
  expect((await db.model.findUniqueOrThrow({ where: { slug } })).engine).toMatchObject({ draftPath: draft, numSpeculativeTokens: 3 });
  await db.model.update({ where: { slug }, data: { status: "retired" } });
});

test("import a 500-row CSV: the dry run shows 3 planted errors; fixed, it imports", async ({ page }) => {
  const rows = Array.from({ length: 500 }, (_, i) => ({ text: `E2E ${run} question ${i}, "quoted", and more`, category: ["writing", "写信写文章", "Letters & Essays"][i % 3]!, language: "zh" }));
  const csv = (items: typeof rows) =>
    "text,category,language\r\n" + items.map((r) => `"${r.text.replace(/"/g, '""')}",${r.category},${r.language}`).join("\r\n") + "\r\n";
  const broken = rows.map((r) => ({ ...r }));
  broken[9]!.category = "no-such-category";
  broken[199]!.language = "";
  broken[449]!.language = "Chinese!";
  const dir = tmpdir();
  const badFile = path.join(dir, `leitai-e2e-${run}-bad.csv`);
  const goodFile = path.join(dir, `leitai-e2e-${run}-good.csv`);
  writeFileSync(badFile, csv(broken));
  writeFileSync(goodFile, csv(rows));

  await page.goto("/admin/questions/import");
  await page.getByTestId("import-file").setInputFiles(badFile);
  await page.getByTestId("import-dry-run").click();
  await expect(page.getByTestId("import-error-count")).toHaveText("3");
  const errorRows = page.getByTestId("import-error-row");
  await expect(errorRows).toHaveCount(3);
  await expect(errorRows.nth(0)).toContainText("11");
  await expect(errorRows.nth(0)).toContainText("category");
  await expect(errorRows.nth(1)).toContainText("201");
  await expect(errorRows.nth(2)).toContainText("451");
  await expect(page.getByTestId("import-run")).toBeDisabled();

  await page.getByTestId("import-file").setInputFiles(goodFile);
  await page.getByTestId("import-dry-run").click();
  await expect(page.getByTestId("import-error-count")).toHaveText("0");
  await page.getByTestId("import-run").click();
  await expect(page.getByTestId("import-written")).toHaveText("500 written");
  await page.getByTestId("import-see-questions").click();
  await page.getByTestId("question-search").fill(`E2E ${run} question 42,`);
  await page.getByTestId("question-filter-apply").click();
  await expect(page.getByTestId("question-row")).toHaveCount(1);
  await expect(page.getByTestId("question-row")).toContainText(`E2E ${run} question 42, "quoted"`);
});

test("pre-generate for two models and watch both progress bars reach 100 %", async ({ page }) => {
  test.setTimeout(180_000);
  const served = await servedDemoModel();
  test.skip(!served && !runtimeExpected, `needs a gpu-runtime serving a demo model at ${runtimeUrl} and a running worker`);
  expect(served, `npm test started a runtime at ${runtimeUrl}, but it serves none of ${runtimeModels.join(", ")}`).not.toBeNull();
  const api = page.request;
  const category = await (await api.post("/api/admin/categories", { data: { slug: `e2e-${run}`, nameZh: `端到端 ${run}`, nameEn: `E2E ${run}` } })).json();
  for (let i = 0; i < 3; i++) {
    const res = await api.post("/api/admin/questions", { data: { text: `Pregen ${run} question ${i}?`, categoryId: category.category.id, language: "en" } });
    expect(res.status()).toBe(201);
  }
  const ids = [await addLocalModel(page, `e2e-pa-${run}`, served!), await addLocalModel(page, `e2e-pb-${run}`, served!)];

  await page.goto("/admin/pregen");
  for (const id of ids) await page.getByTestId(`pregen-model-${id}`).check();
  await page.getByTestId("pregen-scope").selectOption("category");
  await page.getByTestId("pregen-category").selectOption(category.category.id);
  await page.getByTestId("pregen-start").click();
  for (const id of ids) {
    const row = page.locator(`[data-testid="pregen-run"][data-model="${id}"]`).first();
    await expect(row.getByTestId("pregen-progress")).toHaveAttribute("data-pct", "100", { timeout: 150_000 });
    await expect(row.getByTestId("pregen-counts")).toContainText("3/3 done");
  }

  // A bank battle in that category now uses those answers.
  await page.goto("/battle");
  await page.getByTestId("category-select").selectOption(category.category.id);
  await expect(page.getByTestId("turn-0-prompt")).toContainText(`Pregen ${run} question`);
  await expect(page.getByTestId("vote-A")).toBeEnabled();
  expect((await page.getByTestId("side-A-0").locator(".markdown").innerText()).length).toBeGreaterThan(0);
  expect((await page.getByTestId("side-B-0").locator(".markdown").innerText()).length).toBeGreaterThan(0);
});

/** Presses "recompute ratings" on the moderation page and waits for the job to finish. */
async function recomputeRatings(page: Page) {
  await page.goto("/admin/votes");
  await page.getByTestId("ratings-recompute").click();
  await expect(page.getByTestId("ratings-status")).toHaveAttribute("data-state", "completed", { timeout: 60_000 });
}

test("invalidate all votes of one voter, with a reason", async ({ page }) => {
  const [a, b] = await Promise.all([0, 1].map((i) =>
    db.model.create({ data: { slug: `e2e-vote-${run}-${i}`, displayName: `E2E vote ${i}`, kind: "openai", status: "disabled" } })));
  const voterKey = `anon:e2e-${run}`;
  for (let i = 0; i < 6; i++) {
    const battle = await db.battle.create({ data: { mode: "bank", modelAId: a!.id, modelBId: b!.id, voterKey, ipHash: `ip-${run}`, status: "voted" } });
    await db.vote.create({ data: { battleId: battle.id, winner: "A", voterKey, ipHash: `ip-${run}`, modelAId: a!.id, modelBId: b!.id } });
  }
  await recomputeRatings(page);
  await page.goto("/leaderboard");
  await expect(page.getByTestId(`battles-${a!.slug}`)).toHaveText("6");

  await page.goto("/admin/votes");
  await page.getByTestId("vote-filter-voter").fill(voterKey);
  await page.getByTestId("vote-filter-apply").click();
  await expect(page.getByTestId("vote-row")).toHaveCount(6);
  await page.getByTestId("vote-reason").fill("ballot stuffing");
  page.once("dialog", (dialog) => dialog.accept());
  await page.getByTestId("vote-invalidate-filter").click();
  await expect(page.getByTestId("vote-message")).toContainText("6 votes invalidated");
  await expect(page.locator('[data-testid="vote-row"][data-valid="false"]')).toHaveCount(6);
  expect(await db.vote.count({ where: { voterKey, valid: false, invalidReason: "ballot stuffing" } })).toBe(6);

  // After a recompute the leaderboard no longer counts them: these models had no other votes.
  await recomputeRatings(page);
  await page.goto("/leaderboard");
  await expect(page.getByTestId(`leaderboard-row-${a!.slug}`)).toHaveCount(0);
  await expect(page.getByTestId(`provisional-row-${a!.slug}`)).toHaveCount(0);
});

test.afterAll(async () => {
  // Later specs share this database: take this run's models out of matchmaking and its
  // questions out of the bank.
  await db.battle.deleteMany({ where: { voterKey: `anon:e2e-${run}` } });
  await db.model.updateMany({ where: { slug: { contains: run } }, data: { status: "disabled" } });
  await db.question.updateMany({ where: { text: { contains: run } }, data: { active: false } });
  await db.$disconnect();
});

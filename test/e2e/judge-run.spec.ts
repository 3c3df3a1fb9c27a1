import { randomBytes } from "node:crypto";
import type { Model } from "@prisma/client";
import { expect, test } from "@playwright/test";
import { db } from "../../lib/db";
import type { JudgeRunReport } from "../../lib/judge/runs";
import { closeQueues } from "../../lib/pipeline/queues";
import { arenaWith, REAL_MODEL, waitForHealthy } from "./support/arena";
import { signInAsAdmin } from "./support/admin";

// An AI-judge run end to end (issue #26): the real SmolLM2-135M on the test worker's CPU runtime
// judges two bank contestants over two questions — one pair × two questions × two orders = four
// judge generations. A 135M judge's verdicts are poor and often unreadable; what this checks is
// the pipeline: the run completes with its progress shown, every judgement is stored (a verdict
// or a parse error), and the run page renders the summary and the export. A second run, with the
// 10-point template, renders the paired scores summed from the scores the judge gave (a 135M
// judge rarely gives any: then the page must show none; test/integration/judge-runs.test.ts
// covers the totals with a judge that always answers).

const tag = randomBytes(3).toString("hex");

let contestants: Model[] = [];
let judge: Model | null = null;
let categoryId = "";

test.describe.configure({ mode: "serial" });
test.skip(!REAL_MODEL, "needs the test worker's gpu-runtime serving the real model (npm test starts it)");

test.afterAll(async () => {
  // Nothing after this spec should draw these models.
  const ids = [...contestants, ...(judge ? [judge] : [])].map((m) => m.id);
  if (ids.length) await db.model.updateMany({ where: { id: { in: ids } }, data: { status: "disabled" } });
  await closeQueues();
  await db.$disconnect();
});

test("a judge run with the real model completes and renders its summary", async ({ page }) => {
  test.setTimeout(300_000);

  // Two contestants with canned answers to two questions, and the real model active as the judge.
  const arena = await arenaWith({
    bank: [
      { name: `Judged-A ${tag}`, answer: "长城是中国古代修建的军事防御工程，绵延上万里。" },
      { name: `Judged-B ${tag}`, answer: "长城很长。" },
    ],
    runtime: [REAL_MODEL],
    questions: 2,
  });
  contestants = arena.bankModels;
  judge = arena.runtimeModels[0]!;
  // The judge generations take their parameters from the judge model's defaults: keep them short.
  judge = await db.model.update({ where: { id: judge.id }, data: { generationDefaults: { maxTokens: 48, temperature: 0 } } });
  categoryId = arena.question.categoryId!;
  const questions = (await db.generation.findMany({ where: { modelId: contestants[0]!.id, purpose: "pregen" }, select: { questionId: true } }))
    .map((g) => ({ id: g.questionId! }));
  expect(questions).toHaveLength(2);

  // One human vote on the first question, for the agreement figure.
  const [x, y] = contestants as [Model, Model];
  const voterKey = `e2e-judge-${tag}`;
  const battle = await db.battle.create({
    data: { mode: "bank", questionId: arena.question.id, categoryId, modelAId: x.id, modelBId: y.id, voterKey, ipHash: voterKey, status: "voted" },
  });
  await db.vote.create({ data: { battleId: battle.id, winner: "A", voterKey, ipHash: voterKey, modelAId: x.id, modelBId: y.id, categoryId, rated: false } });

  await waitForHealthy([judge.id], 90_000);

  // Start the run from the admin page.
  await signInAsAdmin(page);
  await page.goto("/admin/judge");
  const form = page.getByTestId("judge-form");
  await expect(form).toBeVisible();
  await form.locator('select[name="judgeModelId"]').selectOption(judge.id);
  for (const c of contestants) await form.locator(`input[name="contestantIds"][value="${c.id}"]`).check();
  await form.locator(`input[name="categoryIds"][value="${categoryId}"]`).check();
  await form.getByLabel(/Template/).selectOption("pairwise");
  await form.getByLabel("Prompt language").selectOption("en");
  const startedAt = new Date();
  await form.getByRole("button", { name: /Start/ }).click();

  let runId = "";
  await expect(async () => {
    const run = await db.judgeRun.findFirst({ where: { judgeModelId: judge!.id, createdAt: { gte: new Date(startedAt.getTime() - 5000) } }, orderBy: { createdAt: "desc" } });
    if (!run) {
      // Only when one is shown: textContent() would wait for an alert that never comes.
      const alerts = form.getByRole("alert");
      const alert = (await alerts.count()) ? await alerts.first().textContent() : null;
      throw new Error(`no judge run was started${alert ? `: ${alert}` : ""}`);
    }
    runId = run.id;
  }).toPass({ timeout: 15_000 });

  // The runs list shows its progress and follows the run by itself until it reads completed.
  const row = page.getByTestId("judge-run").filter({ has: page.locator(`a[href="/admin/judge/${runId}"]`) });
  await expect(row).toBeVisible();
  await expect(row).toContainText(/\d+\/\d+ done/);
  await expect.poll(async () => {
    const failed = await db.generation.findFirst({ where: { judgement: { runId }, status: "failed" }, select: { error: true } });
    if (failed) throw new Error(`a judge generation failed: ${failed.error}`);
    return row.getAttribute("data-status");
  }, { timeout: 150_000, intervals: [2000] }).toBe("completed");
  await expect(row).toContainText("4/4 done");
  await expect(row).toContainText("0 failed");

  // Four judgements: one per question and order for the one pair, each generation completed and
  // each either a verdict or a stored parse error.
  const judgements = await db.judgement.findMany({ where: { runId }, include: { generation: { select: { status: true, text: true } } } });
  expect(judgements).toHaveLength(4);
  const keys = judgements.map((j) => `${j.questionId} ${[j.modelXId, j.modelYId].sort().join(" ")} ${j.order}`).sort();
  const pair = [x.id, y.id].sort().join(" ");
  expect(keys).toEqual(questions.flatMap((q) => [`${q.id} ${pair} XY`, `${q.id} ${pair} YX`]).sort());
  for (const j of judgements) {
    expect(j.generation.status, `judge output: ${j.generation.text}`).toBe("completed");
    expect(j.verdict !== null || (j.error ?? "") !== "", `judgement ${j.id} has neither verdict nor error; output: ${j.generation.text}`).toBe(true);
  }

  // The run page: progress, figures, leaderboard, paired scores and the export.
  const run = await db.judgeRun.findUniqueOrThrow({ where: { id: runId } });
  expect(run.status).toBe("completed");
  const summary = run.summary as unknown as JudgeRunReport;
  expect(summary.judgements).toBe(4);
  expect(summary.agreement).not.toBeNull();
  const parsed = judgements.filter((j) => j.verdict !== null).length;

  await row.getByRole("link").click();
  await expect(page).toHaveURL(new RegExp(`/admin/judge/${runId}$`));
  await expect(page.getByTestId("judge-run-progress")).toContainText("completed · 4/4 done · 0 failed");
  await expect(page.getByTestId("judge-run-progress")).toContainText(`${4 - parsed} unparseable`);
  const figures = page.getByTestId("judge-run-figures");
  await expect(figures).toContainText(/Position bias: (—|\d+\.\d%) \(\d+\/\d+\)/);
  await expect(figures).toContainText(new RegExp(`Unparseable: (—|\\d+\\.\\d%) \\(${4 - parsed}/4\\)`));
  await expect(figures).toContainText(/Agreement with human votes: (—|\d+\.\d%) \(\d+\/\d+\)/);

  await expect(page.getByRole("heading", { name: /Judge leaderboard/ })).toBeVisible();
  const board = page.locator("table").filter({ has: page.getByRole("columnheader", { name: /Rating/ }) });
  expect(summary.leaderboard).toHaveLength(parsed > 0 ? 2 : 0);
  if (parsed > 0) {
    // Any readable verdict is a judge battle between the two, so both are ranked.
    for (const c of contestants) await expect(board.getByRole("row").filter({ hasText: c.displayName })).toHaveCount(1);
  } else {
    // SmolLM2 gave no readable verdict this time: an empty board is right, and the page still renders it.
    await expect(board.locator("tbody tr")).toHaveCount(0);
  }

  // Paired scores are score10 totals: a pairwise run has none, and the page shows no table for them.
  expect(summary.pairedScores).toEqual([]);
  await expect(page.getByRole("heading", { name: /Paired scores/ })).toHaveCount(0);

  const exportLink = page.getByRole("link", { name: /Export verdicts \(JSONL\)/ });
  await expect(exportLink).toHaveAttribute("href", `/api/admin/judge-runs/${runId}/verdicts?format=jsonl`);
  const exported = await page.request.get((await exportLink.getAttribute("href"))!);
  expect(exported.ok()).toBe(true);
  const lines = (await exported.text()).split("\n").filter((l) => l.trim());
  expect(lines).toHaveLength(4);
  for (const line of lines) expect(JSON.parse(line)).toMatchObject({ status: "completed" });
});

test("a 10-point judge run with the real model shows the paired scores it summed", async ({ page }) => {
  test.setTimeout(300_000);
  test.skip(!judge, "the first run set up the arena");
  // Room for a justification and the final [[a, b]] line.
  await db.model.update({ where: { id: judge!.id }, data: { generationDefaults: { maxTokens: 96, temperature: 0 } } });
  await signInAsAdmin(page);
  await page.goto("/admin/judge");
  const form = page.getByTestId("judge-form");
  await form.locator('select[name="judgeModelId"]').selectOption(judge!.id);
  for (const c of contestants) await form.locator(`input[name="contestantIds"][value="${c.id}"]`).check();
  await form.locator(`input[name="categoryIds"][value="${categoryId}"]`).check();
  await form.getByLabel(/Template/).selectOption("score10");
  await form.getByLabel("Prompt language").selectOption("en");
  const startedAt = new Date();
  await form.getByRole("button", { name: /Start/ }).click();
  let runId = "";
  await expect(async () => {
    const run = await db.judgeRun.findFirst({ where: { judgeModelId: judge!.id, template: "score10", createdAt: { gte: new Date(startedAt.getTime() - 5000) } } });
    if (!run) throw new Error("no 10-point judge run was started");
    runId = run.id;
  }).toPass({ timeout: 15_000 });
  const row = page.getByTestId("judge-run").filter({ has: page.locator(`a[href="/admin/judge/${runId}"]`) });
  await expect(row).toHaveAttribute("data-status", "completed", { timeout: 240_000 });

  const judgements = await db.judgement.findMany({ where: { runId }, include: { generation: { select: { text: true } } } });
  expect(judgements).toHaveLength(4);
  for (const j of judgements) {
    // A score pair is in range, or the output is stored with why it could not be read.
    if (j.scores) {
      for (const score of j.scores as number[]) expect(score >= 0 && score <= 10, `score ${score}`).toBe(true);
    } else expect(j.error ?? "", `output: ${j.generation.text}`).not.toBe("");
  }
  const summary = (await db.judgeRun.findUniqueOrThrow({ where: { id: runId } })).summary as unknown as JudgeRunReport;
  // Each model's total is the sum of the scores it was given, over both orders.
  const [x, y] = contestants as [Model, Model];
  const given = (model: Model) => judgements.reduce((sum, j) => {
    if (!j.scores) return sum;
    const [a, b] = j.scores as [number, number];
    const shownFirst = j.order === "XY" ? j.modelXId : j.modelYId;
    return sum + (shownFirst === model.id ? a : b);
  }, 0);
  const scored = judgements.filter((j) => j.scores).length;
  await row.getByRole("link").click();
  if (scored === 0) {
    // SmolLM2 gave no readable score this time: no totals, and no table for them.
    expect(summary.pairedScores).toEqual([]);
    await expect(page.getByRole("heading", { name: /Paired scores/ })).toHaveCount(0);
    return;
  }
  expect(summary.pairedScores).toHaveLength(1);
  const paired = summary.pairedScores[0]!;
  expect(paired.judgements).toBe(scored);
  const totals = new Map([[paired.first, paired.totals[0]], [paired.second, paired.totals[1]]]);
  expect([totals.get(x.id), totals.get(y.id)]).toEqual([given(x), given(y)]);
  await expect(page.getByRole("heading", { name: /Paired scores/ })).toBeVisible();
  await expect(page.getByTestId("paired-score-row")).toContainText(`${paired.totals[0]} : ${paired.totals[1]}`);
});

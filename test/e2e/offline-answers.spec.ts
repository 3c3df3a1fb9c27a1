import { randomBytes } from "node:crypto";
import { expect, test, type Page } from "@playwright/test";
import { db } from "../../lib/db";
import { fill, messages } from "../../lib/i18n";
import { questionTextHash } from "../../lib/questions";
import { signInAsAdmin } from "./support/admin";
import { expectNoIdentity, recordResponses } from "./support/blind";

// Answers generated elsewhere, as an admin brings them in: two offline models made on the model
// form, answer files (JSONL and CSV) checked by a dry run on the model page — planted errors shown
// by line, nothing written — then committed; a voter's bank battle between the two shows every
// turn of the multi-turn question, stays blind, and reveals the models after the vote.

test.describe.configure({ mode: "serial" });

const run = randomBytes(3).toString("hex");
const turns = [`E2E ${run}: 推荐一本书。`, "为什么？", "用一句话总结。"];
const answers = {
  A: ["《红楼梦》。", "因为人物鲜活。", "一部写尽人情的小说。"],
  B: ["Try *Dune*.", "Its world is vast.", "A desert epic about power."],
};

async function addOfflineModel(page: Page, name: string) {
  await page.goto("/admin/models/new");
  await page.getByTestId("model-kind").selectOption("offline");
  await expect(page.getByTestId("model-offline-hint")).toBeVisible();
  await page.getByTestId("model-displayName").fill(name);
  await page.getByTestId("model-slug").fill(name.toLowerCase());
  await page.getByTestId("model-organisation").fill("Another cluster");
  await page.getByTestId("model-save").click();
  await expect(page).toHaveURL(/\/admin\/models\/(?!new\b)[a-z0-9]+\?saved=1$/);
  return new URL(page.url()).pathname.split("/").pop()!;
}

async function chooseFile(page: Page, name: string, text: string) {
  await page.getByTestId("answers-file").setInputFiles({ name, mimeType: name.endsWith(".csv") ? "text/csv" : "application/x-ndjson", buffer: Buffer.from(text) });
}

const csvCell = (v: string) => (/[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

test("an admin imports two offline models' answers with a dry run first, and a voter battles them turn by turn", async ({ page, browser }) => {
  await db.model.updateMany({ where: { status: "active" }, data: { status: "disabled" } });
  const category = await db.category.findFirstOrThrow({ orderBy: { sortOrder: "asc" } });
  const question = await db.question.create({ data: { text: turns[0]!, textHash: questionTextHash(turns[0]!), turns, categoryId: category.id, language: "zh", externalId: `e2e-${run}` } });

  await signInAsAdmin(page);
  const nameA = `Elsewhere-A-${run}`;
  const nameB = `Elsewhere-B-${run}`;
  const idA = await addOfflineModel(page, nameA);

  // Dry run with planted errors: an unknown question, the same question twice, one answer for three turns.
  const good = { question_id: question.externalId, turns, answers: answers.A };
  await chooseFile(page, "planted.jsonl", [
    good,
    { question_id: `missing-${run}`, answer: "?" },
    good,
    { question_id: question.externalId, answer: "only one" },
  ].map((r) => JSON.stringify(r)).join("\n") + "\n");
  await page.getByTestId("answers-dry-run").click();
  await expect(page.getByTestId("answers-error-count")).toHaveText("3");
  const errorLines = await page.getByTestId("answers-errors").locator("tbody tr td:first-child").allInnerTexts();
  expect(errorLines).toEqual(["2", "3", "4"]);
  // Each row's problem in the page's language (the browser's: English).
  const issues = messages("en").adminImportIssues;
  await expect(page.getByTestId("answers-errors")).toContainText(fill(issues.unmatchedId, { id: `missing-${run}` }));
  await expect(page.getByTestId("answers-errors")).toContainText(fill(issues.sameQuestion, { line: 1 }));
  await expect(page.getByTestId("answers-errors")).toContainText(fill(issues.bankTurnsAnswers, { turns: 3, given: 1 }));
  await expect(page.getByTestId("answers-commit")).toBeDisabled();
  expect(await db.generation.count({ where: { modelId: idA } })).toBe(0);

  // The corrected file, with where the answers came from.
  await chooseFile(page, "answers-a.jsonl", JSON.stringify(good) + "\n");
  await page.getByTestId("answers-source").fill('{"engine":"llama.cpp","quantisation":"q4_0","temperature":0.2}');
  await page.getByTestId("answers-dry-run").click();
  await expect(page.getByTestId("answers-summary")).toContainText("3 would be written");
  await page.getByTestId("answers-commit").click();
  await expect(page.getByTestId("answers-written")).toHaveText("3 written as version 1");
  await expect(page.getByTestId("answer-set-row")).toHaveCount(1);

  // The second model's answers as CSV: turns and answers as JSON arrays.
  const idB = await addOfflineModel(page, nameB);
  const header = "question_id,question,category,answer,turns,answers\r\n";
  const row = [question.externalId!, turns[0]!, category.slug, "", JSON.stringify(turns), JSON.stringify(answers.B)].map(csvCell).join(",") + "\r\n";
  await chooseFile(page, "answers-b.csv", header + row);
  await page.getByTestId("answers-dry-run").click();
  await expect(page.getByTestId("answers-error-count")).toHaveText("0");
  await page.getByTestId("answers-commit").click();
  await expect(page.getByTestId("answers-written")).toHaveText("3 written as version 1");

  // A voter in a browser of their own: the whole conversation on both sides before the vote.
  const voter = await browser.newContext();
  const battlePage = await voter.newPage();
  const bodies = recordResponses(battlePage);
  await battlePage.goto("/battle");
  for (let t = 0; t < turns.length; t++) {
    await expect(battlePage.getByTestId(`turn-${t}-prompt`)).toContainText(turns[t]!);
    const shown = [await battlePage.getByTestId(`side-A-${t}`).innerText(), await battlePage.getByTestId(`side-B-${t}`).innerText()];
    expect(shown.some((s) => s.includes(answers.A[t]!))).toBe(true);
    expect(shown.some((s) => s.includes(answers.B[t]!.replace(/\*/g, "")))).toBe(true);
  }
  await expect(battlePage.getByTestId("follow-up-input")).toHaveCount(0);
  await expectNoIdentity(battlePage, bodies, [nameA, nameB, nameA.toLowerCase(), nameB.toLowerCase(), idA, idB]);
  await battlePage.getByTestId("vote-A").click();
  await expect(battlePage.getByTestId("voted")).toBeVisible();
  expect([await battlePage.getByTestId("reveal-A").first().innerText(), await battlePage.getByTestId("reveal-B").first().innerText()].sort()).toEqual([nameA, nameB].sort());
  const battleId = await battlePage.getByTestId("battle").getAttribute("data-battle-id");
  expect((await db.vote.findFirstOrThrow({ where: { battleId: battleId! } })).rated).toBe(true);

  // The model's public page says where its answers came from.
  await battlePage.goto(`/models/${nameA.toLowerCase()}`);
  await expect(battlePage.getByTestId("model-answer-source")).toContainText("llama.cpp");
  await voter.close();
  await db.question.update({ where: { id: question.id }, data: { active: false } });
});

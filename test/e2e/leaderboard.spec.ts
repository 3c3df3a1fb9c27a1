import { expect, test } from "@playwright/test";
import { computeAndStoreRatingRun } from "@/lib/arena/ratings-job";
import { db } from "@/lib/db";
import { arenaWith } from "./support/arena";

const LONG = "# 长城\n\n## 概述\n\n1. **起源**：春秋战国。\n2. **规模**：两万多公里。\n3. **现状**：世界遗产。\n\n- 明长城保存最好\n- 八达岭最有名\n";

test("the leaderboard's style-control toggle switches the table to style-controlled ratings", async ({ page }) => {
  const { question, bankModels } = await arenaWith({
    bank: [
      { name: "Longwind-13B", answer: LONG },
      { name: "Brief-7B", answer: "长城很长。" },
      { name: "Curt-7B", answer: "是防线。" },
    ],
  });
  const answers = new Map((await db.generation.findMany({ where: { questionId: question.id } })).map((g) => [g.modelId, g.id]));
  const [long, brief, curt] = bankModels.map((m) => m.id) as [string, string, string];
  // Voters favour the long, formatted answer; the two short ones split evenly.
  const battles: [string, string, "A" | "B" | "tie"][] = [];
  for (let i = 0; i < 10; i++) battles.push([long, brief, i < 8 ? "A" : "B"], [curt, long, i < 7 ? "B" : "A"], [brief, curt, i % 2 ? "A" : "B"]);
  for (const [a, b, winner] of battles) {
    const voterKey = `e2e-style-${Math.random().toString(16).slice(2)}`;
    const battle = await db.battle.create({ data: { mode: "bank", questionId: question.id, modelAId: a, modelBId: b, voterKey, ipHash: voterKey, status: "voted" } });
    await db.battleGeneration.createMany({ data: [{ battleId: battle.id, side: "A", generationId: answers.get(a)! }, { battleId: battle.id, side: "B", generationId: answers.get(b)! }] });
    await db.vote.create({ data: { battleId: battle.id, winner, voterKey, ipHash: voterKey, modelAId: a, modelBId: b } });
  }
  await computeAndStoreRatingRun({ bootstrapRounds: 20 });

  await page.goto("/leaderboard");
  const table = page.getByTestId("leaderboard-table");
  await expect(table).toHaveAttribute("data-view", "plain");
  const rating = page.getByTestId(`rating-${bankModels[0]!.slug}`);
  const plain = await rating.innerText();

  await page.getByTestId("view-style").click();
  await expect(page).toHaveURL(/view=style/);
  await expect(table).toHaveAttribute("data-view", "style");
  await expect(page.getByTestId("style-coefficients")).toContainText(/length [+−]\d\.\d\d, headers [+−]\d\.\d\d, lists [+−]\d\.\d\d, bold [+−]\d\.\d\d/);
  // Held to equal length and markdown, the long answers' model is rated differently.
  await expect(rating).not.toHaveText(plain);

  await page.getByTestId("view-plain").click();
  await expect(table).toHaveAttribute("data-view", "plain");
  await expect(rating).toHaveText(plain);

  await db.battle.deleteMany({ where: { questionId: question.id } });
  await computeAndStoreRatingRun({ bootstrapRounds: 0 });
});

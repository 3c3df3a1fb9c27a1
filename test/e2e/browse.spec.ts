import { expect, test } from "@playwright/test";
import { computeAndStoreRatingRun } from "../../lib/arena/ratings-job";
import { db } from "../../lib/db";
import { arenaWith } from "./support/arena";

// Browsing as a visitor: the models index from the header, a model's page and its head-to-head
// link, the battle browser filtered by a model, and a leaderboard matrix cell to head to head.

test("a visitor finds models, head to head and battles by following links", async ({ page }) => {
  const { bankModels, question } = await arenaWith({
    bank: [{ name: "Browsable-A", answer: "答案甲" }, { name: "Browsable-B", answer: "答案乙" }],
  });
  const [a, b] = bankModels as [(typeof bankModels)[number], (typeof bankModels)[number]];
  const battle = await db.battle.create({
    data: { mode: "bank", questionId: question.id, categoryId: question.categoryId, modelAId: a.id, modelBId: b.id, voterKey: "e2e-browse", ipHash: "e2e-browse", status: "voted" },
  });
  await db.vote.create({ data: { battleId: battle.id, winner: "A", voterKey: "e2e-browse", ipHash: "e2e-browse", modelAId: a.id, modelBId: b.id, categoryId: question.categoryId } });
  await computeAndStoreRatingRun({ bootstrapRounds: 5 });

  await page.goto("/");
  await page.getByRole("navigation").getByRole("link", { name: /^(模型|Models)$/ }).click();
  await expect(page).toHaveURL(/\/models$/);
  const card = page.getByTestId(`model-card-${a.slug}`);
  await expect(card).toContainText(a.organisation);
  await card.getByRole("link", { name: a.displayName }).click();
  await expect(page.getByTestId("model-name")).toHaveText(a.displayName);

  await page.getByTestId(`h2h-link-${b.slug}`).click();
  await expect(page).toHaveURL(new RegExp(`/models/${a.slug}/vs/${b.slug}$`));
  await expect(page.getByTestId("h2h-record")).toContainText(`${a.displayName} 1 : 0 ${b.displayName}`);

  await page.getByRole("navigation").getByRole("link", { name: /^(对战记录|Battles)$/ }).click();
  await page.getByTestId("filter-model").selectOption(b.slug);
  await page.getByTestId("filter-apply").click();
  await expect(page).toHaveURL(new RegExp(`model=${b.slug}`));
  await expect(page.getByTestId("battle-card")).toHaveCount(1);
  await expect(page.getByTestId("battle-card")).toContainText(`${a.displayName} vs ${b.displayName}`);

  await page.goto("/leaderboard");
  await page.getByTestId(`win-heatmap-h2h-${b.slug}-${a.slug}`).click();
  await expect(page).toHaveURL(new RegExp(`/models/${b.slug}/vs/${a.slug}$`));
  await expect(page.getByTestId("h2h-record")).toContainText(`${b.displayName} 0 : 1 ${a.displayName}`);
});

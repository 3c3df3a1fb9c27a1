import { expect, test } from "@playwright/test";

const email = process.env.LEITAI_ADMIN_EMAIL ?? "admin@test.leitai";
const password = process.env.LEITAI_ADMIN_PASSWORD ?? "test-admin-password";

test("home page links to battle, leaderboard and admin", async ({ page }) => {
  await page.goto("/");
  await expect(page.getByTestId("home-battle")).toBeVisible();
  await expect(page.getByTestId("home-leaderboard")).toBeVisible();
  await expect(page.getByTestId("home-admin")).toBeVisible();
});

test("an admin signs in through the form and sees the dashboard", async ({ page }) => {
  await page.goto("/admin");
  await expect(page).toHaveURL(/\/signin\?callbackUrl=%2Fadmin/);

  await page.getByTestId("signin-email").fill(email);
  await page.getByTestId("signin-password").fill("wrong password");
  await page.getByTestId("signin-submit").click();
  await expect(page.getByTestId("signin-error")).toBeVisible();

  await page.getByTestId("signin-password").fill(password);
  await page.getByTestId("signin-submit").click();
  await expect(page).toHaveURL(/\/admin$/);
  await expect(page.getByTestId("admin-user")).toContainText(email);
  await expect(page.getByTestId("admin-stat-questions")).toContainText(/\d+/);
});

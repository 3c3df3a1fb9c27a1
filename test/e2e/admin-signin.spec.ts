import { randomBytes } from "node:crypto";
import { expect, test, type Page } from "@playwright/test";
import { createUser } from "../../lib/users";

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

async function signInAt(page: Page, path: string, user: { email: string; password: string }) {
  await page.goto(path);
  await page.getByTestId("signin-email").fill(user.email);
  await page.getByTestId("signin-password").fill(user.password);
  await page.getByTestId("signin-submit").click();
}

test("a crafted link cannot send the admin off the site after signing in", async ({ page, baseURL }) => {
  // Each names another host as a browser reads it (a backslash after the slash, a tab inside "//host", a dot segment before it).
  for (const callbackUrl of ["/\\example.com", "/\t/example.com", "//example.com", "/.//example.com"]) {
    await page.context().clearCookies();
    await signInAt(page, `/signin?callbackUrl=${encodeURIComponent(callbackUrl)}`, { email, password });
    await expect(page.getByTestId("admin-user")).toContainText(email);
    expect(page.url()).toBe(`${baseURL}/admin`);
  }
});

test("a voter who signs in with no page to return to lands on a battle, not on a 403", async ({ page, baseURL }) => {
  const voter = { email: `e2e-landing-${randomBytes(3).toString("hex")}@test.leitai`, password: "landing-voter-password" };
  await createUser({ ...voter, role: "voter" });
  await signInAt(page, "/signin", voter);
  await expect(page).toHaveURL(`${baseURL}/battle`);
  await expect(page.getByTestId("mode-live")).toBeVisible();
});

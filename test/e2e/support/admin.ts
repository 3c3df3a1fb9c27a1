import { expect, type Page } from "@playwright/test";

// The seeded admin (scripts/test.sh sets both variables; the defaults are the test seed's).
export const ADMIN_EMAIL = process.env.LEITAI_ADMIN_EMAIL ?? "admin@test.leitai";
export const ADMIN_PASSWORD = process.env.LEITAI_ADMIN_PASSWORD ?? "test-admin-password";

/** Signs the page in as the seeded admin, landing on /admin. */
export async function signInAsAdmin(page: Page): Promise<void> {
  await page.goto("/signin?callbackUrl=%2Fadmin");
  await page.getByTestId("signin-email").fill(ADMIN_EMAIL);
  await page.getByTestId("signin-password").fill(ADMIN_PASSWORD);
  await page.getByTestId("signin-submit").click();
  await expect(page.getByTestId("admin-user")).toBeVisible();
}

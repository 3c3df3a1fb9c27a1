import { randomBytes } from "node:crypto";
import { expect, test, type Page } from "@playwright/test";
import { getArenaSettings, saveArenaSettings } from "../../lib/arena/arena-settings";
import { createUser, temporaryPassword } from "../../lib/users";
import { signInAsAdmin } from "./support/admin";

// Accounts in the browser: an admin adds a voter, who signs in with the temporary password and
// changes it; the sign-up switch opens and closes /signup; an admin whose password was chosen
// for them (as the seed's generated first admin's is) must replace it before any admin page.

test.describe.configure({ mode: "serial" });

const run = randomBytes(3).toString("hex");

async function signIn(page: Page, email: string, password: string, callbackUrl = "/") {
  await page.goto(`/signin?callbackUrl=${encodeURIComponent(callbackUrl)}`);
  await page.getByTestId("signin-email").fill(email);
  await page.getByTestId("signin-password").fill(password);
  await page.getByTestId("signin-submit").click();
}

async function changePassword(page: Page, current: string, next: string) {
  await page.getByTestId("password-current").fill(current);
  await page.getByTestId("password-new").fill(next);
  await page.getByTestId("password-repeat").fill(next);
  await page.getByTestId("password-submit").click();
}

test("an admin adds a voter; the voter signs in with the temporary password and changes it", async ({ page, browser }) => {
  const email = `e2e-voter-${run}@test.leitai`;
  await signInAsAdmin(page);
  await page.goto("/admin/users");
  await page.getByTestId("user-create-email").fill(email);
  await page.getByTestId("user-create-submit").click();
  const temporary = (await page.getByTestId("temporary-password").innerText()).trim();
  expect(temporary.length).toBeGreaterThanOrEqual(16);
  await expect(page.getByTestId(`user-row-${email}`)).toContainText("must change password");

  const voterContext = await browser.newContext();
  const voter = await voterContext.newPage();
  await signIn(voter, email, temporary, "/account");
  await expect(voter.getByTestId("password-required")).toBeVisible();
  // A wrong current password is named beside its field, in the page's language (the browser asks for English).
  await changePassword(voter, "not-the-password", "voter-password-1");
  await expect(voter.getByTestId("password-error-currentPassword")).toHaveText("The current password is wrong.");
  await changePassword(voter, temporary, "voter-password-1");
  await expect(voter).toHaveURL(/\/$/);
  await voterContext.close();

  // Signed in afresh with the new password only.
  const again = await browser.newContext();
  const page2 = await again.newPage();
  await signIn(page2, email, temporary, "/account");
  await expect(page2.getByTestId("signin-error")).toHaveText("Wrong email or password.");
  // The same refusal on a page switched to Chinese is said in Chinese only.
  await again.addCookies([{ name: "leitai_lang", value: "zh", url: test.info().project.use.baseURL! }]);
  await signIn(page2, email, temporary, "/account");
  await expect(page2.getByTestId("signin-error")).toHaveText("邮箱或密码错误。");
  await signIn(page2, email, "voter-password-1", "/account");
  await expect(page2.getByTestId("password-form")).toBeVisible();
  await expect(page2.getByTestId("password-required")).toHaveCount(0);
  await again.close();
});

test("sign-up is closed by default, and the admin's switch opens and closes it", async ({ page, browser }) => {
  const { updatedAt: _updatedAt, ...original } = await getArenaSettings({ fresh: true });
  try {
    await saveArenaSettings({ ...original, signupOpen: false });
    const visitor = await browser.newContext();
    const signup = await visitor.newPage();
    await signup.goto("/signup");
    await expect(signup.getByTestId("signup-closed")).toBeVisible();

    await signInAsAdmin(page);
    await page.getByTestId("admin-nav-settings").click();
    await page.getByTestId("settings-signupOpen").check();
    await page.getByTestId("settings-save").click();
    await expect(page.getByTestId("settings-message")).toBeVisible();

    // Each process keeps the settings a few seconds.
    await expect(async () => {
      await signup.goto("/signup");
      await expect(signup.getByTestId("signup-form")).toBeVisible({ timeout: 1000 });
    }).toPass({ timeout: 20_000 });
    const email = `e2e-signup-${run}@test.leitai`;
    await signup.getByTestId("signup-email").fill(email);
    await signup.getByTestId("signup-password").fill("short");
    await signup.getByTestId("signup-submit").click();
    await expect(signup.getByTestId("signup-error-password")).toHaveText("A password has 10 to 200 characters.");
    await signup.getByTestId("signup-password").fill("signup-password-1");
    await signup.getByTestId("signup-submit").click();
    await expect(signup).toHaveURL(/\/battle$/);
    await signup.goto("/account");
    await expect(signup.getByText(`${email} · voter`)).toBeVisible();

    await page.getByTestId("settings-signupOpen").uncheck();
    await page.getByTestId("settings-save").click();
    await expect(async () => {
      await signup.goto("/signup");
      await expect(signup.getByTestId("signup-closed")).toBeVisible({ timeout: 1000 });
    }).toPass({ timeout: 20_000 });
    await visitor.close();
  } finally {
    await saveArenaSettings(original);
  }
});

test("an admin with a password chosen for them must replace it before any admin page", async ({ page }) => {
  const email = `e2e-first-admin-${run}@test.leitai`;
  const password = temporaryPassword();
  await createUser({ email, password, role: "admin", mustChangePassword: true });
  await signIn(page, email, password, "/admin/models");
  await expect(page).toHaveURL(/\/account\?next=%2Fadmin%2Fmodels$/);
  await expect(page.getByTestId("password-required")).toBeVisible();
  await page.goto("/admin/questions");
  await expect(page).toHaveURL(/\/account\?next=%2Fadmin%2Fquestions$/);
  await changePassword(page, password, "first-admin-password-1");
  await expect(page).toHaveURL(/\/admin\/questions$/);
  await expect(page.getByRole("heading", { name: /Question bank/ })).toBeVisible();
});

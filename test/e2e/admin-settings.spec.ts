import { expect, test } from "@playwright/test";
import { getArenaSettings, saveArenaSettings } from "../../lib/arena/arena-settings";

// The arena settings form: reached from the admin nav, every field's error beside it, saved
// through the audited API.

const email = process.env.LEITAI_ADMIN_EMAIL ?? "admin@test.leitai";
const password = process.env.LEITAI_ADMIN_PASSWORD ?? "test-admin-password";

test("the arena settings form shows each field's error beside it and saves valid values", async ({ page }) => {
  const { updatedAt: _updatedAt, ...original } = await getArenaSettings({ fresh: true });
  try {
    await page.goto("/signin?callbackUrl=%2Fadmin");
    await page.getByTestId("signin-email").fill(email);
    await page.getByTestId("signin-password").fill(password);
    await page.getByTestId("signin-submit").click();
    await page.getByTestId("admin-nav-settings").click();
    await expect(page.getByTestId("arena-settings")).toBeVisible();

    // Two bad fields: both are named, each beside its own input; nothing is saved.
    await page.getByTestId("settings-turnMaxChars").fill("0");
    await page.getByTestId("settings-signedInFactor").fill("2.5");
    await page.getByTestId("settings-save").click();
    for (const field of ["turnMaxChars", "signedInFactor"]) {
      const label = page.locator("label", { has: page.getByTestId(`settings-${field}`) });
      await expect(label.getByTestId(`settings-error-${field}`)).toBeVisible();
    }
    await expect(page.getByTestId("settings-error-liveBattlesPerVoter")).toHaveCount(0);
    expect((await getArenaSettings({ fresh: true })).turnMaxChars).toBe(original.turnMaxChars);

    await page.getByTestId("settings-turnMaxChars").fill("3210");
    await page.getByTestId("settings-signedInFactor").fill("4");
    await page.getByTestId("settings-publishLivePrompts").setChecked(!original.publishLivePrompts);
    await page.getByTestId("settings-save").click();
    await expect(page.getByTestId("settings-message")).toContainText("Saved");
    await expect(page.getByTestId("settings-error-turnMaxChars")).toHaveCount(0);
    expect(await getArenaSettings({ fresh: true })).toMatchObject({ turnMaxChars: 3210, signedInFactor: 4, publishLivePrompts: !original.publishLivePrompts });
    await page.reload();
    await expect(page.getByTestId("settings-turnMaxChars")).toHaveValue("3210");
  } finally {
    await saveArenaSettings(original);
  }
});

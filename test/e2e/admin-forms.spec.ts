import { randomBytes } from "node:crypto";
import { expect, test, type Locator, type Page } from "@playwright/test";
import { db } from "../../lib/db";
import { getArenaSettings, saveArenaSettings } from "../../lib/arena/arena-settings";
import { fill, htmlLang, LANG_COOKIE, LANGS, messages, type Lang } from "../../lib/i18n";
import { signInAsAdmin } from "./support/admin";

// The admin forms in each language: invalid values are refused with each field's message beside
// its field (the box's aria-describedby names it), in the page's language, and nothing is
// written; valid values then save.

const run = randomBytes(3).toString("hex");

async function speak(page: Page, lang: Lang, baseURL: string | undefined) {
  await page.context().addCookies([{ name: LANG_COOKIE, value: lang, url: baseURL ?? "http://localhost:3210" }]);
  await signInAsAdmin(page);
}

/** The field's message: beside the box (in its label or row), named by the box's aria-describedby, saying `text`. */
async function expectFieldError(scope: Locator, box: Locator, name: string, text: string) {
  const error = scope.getByTestId(`field-error-${name}`);
  await expect(error).toHaveText(text);
  await expect(box).toHaveAttribute("aria-invalid", "true");
  await expect(box).toHaveAttribute("aria-describedby", (await error.getAttribute("id"))!);
}

for (const lang of LANGS) {
  const said = messages(lang);
  const formErrors = said.formErrors;

  test.describe(`admin forms in ${lang}`, () => {
    test.beforeEach(async ({ page, baseURL }) => {
      await speak(page, lang, baseURL);
    });

    test("the category form", async ({ page }) => {
      const slug = `e2e-forms-${lang}-${run}`;
      try {
        await page.goto("/admin/categories");
        await expect(page.locator("html")).toHaveAttribute("lang", htmlLang(lang));
        await expect(page.getByRole("heading", { level: 1 })).toHaveText(said.adminCategories.title);
        const row = page.getByTestId("category-new");
        await row.getByTestId("category-new-slug").fill("Bad Slug!");
        await row.getByTestId("category-new-en").fill(`Forms ${run}`);
        await row.getByTestId("category-new-save").click();
        await expectFieldError(row, row.getByTestId("category-new-slug"), "slug", formErrors.slugFormat);
        await expectFieldError(row, row.getByTestId("category-new-zh"), "nameZh", formErrors.required);
        await expect(row.getByTestId("field-error-nameEn")).toHaveCount(0);
        expect(await db.category.count({ where: { nameEn: `Forms ${run}` } })).toBe(0);

        await row.getByTestId("category-new-slug").fill(slug);
        await row.getByTestId("category-new-zh").fill(`表单 ${run}`);
        await row.getByTestId("category-new-save").click();
        await expect(page.getByTestId(`category-${slug}`)).toBeVisible();
        await expect(row.getByTestId("field-error-slug")).toHaveCount(0);
        expect(await db.category.count({ where: { slug } })).toBe(1);

        // The server's refusal lands on its field too, in the page's language.
        await row.getByTestId("category-new-slug").fill(slug);
        await row.getByTestId("category-new-zh").fill(`表单二 ${run}`);
        await row.getByTestId("category-new-en").fill(`Forms two ${run}`);
        await row.getByTestId("category-new-save").click();
        await expectFieldError(row, row.getByTestId("category-new-slug"), "slug", fill(said.errors.categorySlugTaken, { slug }));
      } finally {
        await db.category.deleteMany({ where: { slug } });
      }
    });

    test("the model form", async ({ page }) => {
      const slug = `e2e-forms-${lang}-${run}`;
      try {
        await page.goto("/admin/models/new");
        await expect(page.locator("html")).toHaveAttribute("lang", htmlLang(lang));
        await expect(page.getByRole("heading", { level: 1 })).toHaveText(said.adminModels.newTitle);
        const form = page.getByTestId("model-form");
        await page.getByTestId("model-slug").fill("Bad Slug");
        await page.getByTestId("model-battleWeight").fill("-1");
        await page.getByTestId("model-numSpeculativeTokens").fill("17");
        await page.getByTestId("model-seed").fill("1.5");
        await page.getByTestId("model-save").click();
        await expectFieldError(form, page.getByTestId("model-displayName"), "displayName", formErrors.required);
        await expectFieldError(form, page.getByTestId("model-slug"), "slug", formErrors.slugFormat);
        await expectFieldError(form, page.getByTestId("model-battleWeight"), "battleWeight", fill(formErrors.tooSmall, { minimum: 0 }));
        await expectFieldError(form, page.getByTestId("model-path"), "engine.path", formErrors.required);
        await expectFieldError(form, page.getByTestId("model-numSpeculativeTokens"), "engine.numSpeculativeTokens", fill(formErrors.tooLarge, { maximum: 16 }));
        await expectFieldError(form, page.getByTestId("model-seed"), "generationDefaults.seed", formErrors.wholeNumber);
        await expect(form.getByTestId("field-error-generationDefaults.temperature")).toHaveCount(0);
        await expect(page).toHaveURL(/\/admin\/models\/new$/);
        expect(await db.model.count({ where: { displayName: `Forms ${lang} ${run}` } })).toBe(0);

        await page.getByTestId("model-displayName").fill(`Forms ${lang} ${run}`);
        await page.getByTestId("model-slug").fill(slug);
        await page.getByTestId("model-battleWeight").fill("1");
        await page.getByTestId("model-path").fill("/models/none.gguf");
        await page.getByTestId("model-numSpeculativeTokens").fill("4");
        await page.getByTestId("model-seed").fill("");
        await page.getByTestId("model-save").click();
        await expect(page).toHaveURL(/\/admin\/models\/[a-z0-9]+\?saved=1$/);
        await expect(page.getByRole("heading", { level: 1 })).toContainText(`Forms ${lang} ${run}`);
        expect(await db.model.count({ where: { slug } })).toBe(1);
        // No runtime serves it and the path is not on this machine: the check's verdict, in the page's language.
        await expect(page.getByTestId("model-last-check")).toContainText(fill(said.errors.checkPathMissing, { note: "", path: "/models/none.gguf" }));
      } finally {
        await db.model.deleteMany({ where: { slug } });
      }
    });

    test("the arena settings form", async ({ page }) => {
      const { updatedAt: _updatedAt, ...original } = await getArenaSettings({ fresh: true });
      try {
        await page.goto("/admin/settings");
        await expect(page.locator("html")).toHaveAttribute("lang", htmlLang(lang));
        await expect(page.getByRole("heading", { level: 1 })).toHaveText(said.adminSettings.title);
        const form = page.getByTestId("arena-settings");
        await page.getByTestId("settings-turnMaxChars").fill("0");
        await page.getByTestId("settings-signedInFactor").fill("2.5");
        await page.getByTestId("settings-liveBattlesPerVoter").fill("");
        await page.getByTestId("settings-save").click();
        await expectFieldError(form, page.getByTestId("settings-turnMaxChars"), "turnMaxChars", fill(formErrors.tooSmall, { minimum: 1 }));
        await expectFieldError(form, page.getByTestId("settings-signedInFactor"), "signedInFactor", formErrors.wholeNumber);
        await expectFieldError(form, page.getByTestId("settings-liveBattlesPerVoter"), "liveBattlesPerVoter", formErrors.numberNeeded);
        await expect(form.getByTestId("field-error-turnsPerVoter")).toHaveCount(0);
        expect(await getArenaSettings({ fresh: true })).toMatchObject(original);

        await page.getByTestId("settings-turnMaxChars").fill("3210");
        await page.getByTestId("settings-signedInFactor").fill("4");
        await page.getByTestId("settings-liveBattlesPerVoter").fill("21");
        await page.getByTestId("settings-save").click();
        await expect(page.getByTestId("settings-message")).toHaveText(said.adminSettings.saved);
        await expect(form.getByTestId("field-error-turnMaxChars")).toHaveCount(0);
        expect(await getArenaSettings({ fresh: true })).toMatchObject({ turnMaxChars: 3210, signedInFactor: 4, liveBattlesPerVoter: 21 });
      } finally {
        await saveArenaSettings(original);
      }
    });
  });
}

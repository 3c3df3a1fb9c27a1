import { defineConfig } from "@playwright/test";

// Debian's Chromium (installed by scripts/services.sh); Playwright never downloads a browser.
// `npm test` starts the built site and sets LEITAI_TEST_BASE_URL.
export default defineConfig({
  testDir: "test/e2e",
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  reporter: [["list"]],
  use: {
    baseURL: process.env.LEITAI_TEST_BASE_URL ?? "http://localhost:3210",
    // The browser asks for English (Accept-Language), which the site follows until the language
    // switch sets its cookie; a spec about Chinese sets the cookie or its own locale.
    locale: "en-US",
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
});

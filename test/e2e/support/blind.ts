import { expect, type Page } from "@playwright/test";

// Blindness checks shared by the battle specs: no model identity in the page or in any
// response it received before the vote.

/** Records the body of every response the page receives, to search them for identities. */
export function recordResponses(page: Page): () => Promise<string[]> {
  const pending: Promise<string>[] = [];
  page.on("response", (response) => {
    // Streams are read by the page; their frames are checked in the DOM and via the API test.
    if ((response.headers()["content-type"] ?? "").includes("text/event-stream")) return;
    pending.push(response.text().catch(() => ""));
  });
  return () => Promise.all(pending);
}

export async function expectNoIdentity(page: Page, bodies: () => Promise<string[]>, secrets: string[]) {
  const html = await page.content();
  const all = [html, ...(await bodies())];
  for (const secret of secrets) for (const body of all) expect(body, `leaked "${secret}"`).not.toContain(secret);
}

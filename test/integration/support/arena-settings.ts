import { randomInt } from "node:crypto";
import { expect } from "vitest";
import type { ArenaSettingsInput } from "@/lib/arena/arena-settings";
import { waitFor } from "../pipeline/helpers";
import { Client } from "./http";

const json = { "content-type": "application/json" };

export async function readArenaSettings(admin: Client): Promise<ArenaSettingsInput> {
  const { status, body } = await admin.json<{ settings: ArenaSettingsInput & { updatedAt?: unknown } }>("/api/admin/settings");
  expect(status).toBe(200);
  const { updatedAt: _updatedAt, ...settings } = body.settings;
  return settings;
}

/**
 * Saves `patch` over the settings through the admin API and waits until the site's battle route
 * applies them (each process keeps the settings a few seconds). The probe is a prompt over every
 * length limit, refused before anything is counted; its message names the per-turn limit in
 * force, so turnMaxChars changes on every call unless the patch sets it.
 */
export async function applyArenaSettings(admin: Client, patch: Partial<ArenaSettingsInput>): Promise<ArenaSettingsInput> {
  const before = await readArenaSettings(admin);
  let turnMaxChars = patch.turnMaxChars ?? before.turnMaxChars;
  while (patch.turnMaxChars === undefined && turnMaxChars === before.turnMaxChars) turnMaxChars = 3000 + randomInt(1000);
  const next = { ...before, ...patch, turnMaxChars };
  const saved = await admin.json("/api/admin/settings", { method: "PUT", headers: json, body: JSON.stringify(next) });
  expect(saved.status).toBe(200);
  const probe = "x".repeat(Math.max(before.turnMaxChars, turnMaxChars) + 1);
  await waitFor(async () => {
    const res = await new Client().json<{ error?: { message: string } }>("/api/battles", {
      method: "POST", headers: json, body: JSON.stringify({ mode: "live", prompt: probe }),
    });
    return res.status === 400 && !!res.body.error?.message.includes(` ${turnMaxChars} `);
  }, 15_000, "the new arena settings to be in force");
  return before;
}

/**
 * A window length no other test uses, so its counters start from zero, and whose current
 * window has ten minutes or more to run (a fixed window turning over mid-test restarts them).
 */
export function freshWindowS(): number {
  for (;;) {
    const windowS = 5000 + randomInt(50_000);
    if (windowS - (Math.floor(Date.now() / 1000) % windowS) >= 600) return windowS;
  }
}

/** The voter's language as the site reads it (the `leitai_lang` cookie). */
export function speak(client: Client, lang: "zh" | "en"): Client {
  (client as unknown as { cookies: Map<string, string> }).cookies.set("leitai_lang", lang);
  return client;
}

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ArenaSettingsInput } from "@/lib/arena/arena-settings";
import { db } from "@/lib/db";
import { applyArenaSettings, readArenaSettings } from "./support/arena-settings";
import { Client } from "./support/http";
import { adminClient, voterClient } from "./support/users";

// The arena settings (/admin/settings): admins only, every change audited, and a value out of
// bounds is a 400 that names its field.

type ErrorBody = { error: { code: string; field?: string; message: string } };
const json = { "content-type": "application/json" };

describe("arena settings API", () => {
  let admin: Client;
  let original: ArenaSettingsInput;

  const put = (client: Client, body: unknown) =>
    client.json<ErrorBody & { settings: ArenaSettingsInput }>("/api/admin/settings", { method: "PUT", headers: json, body: JSON.stringify(body) });

  beforeAll(async () => {
    admin = await adminClient();
    original = await readArenaSettings(admin);
  });

  afterAll(async () => {
    if (admin && original) await applyArenaSettings(admin, original);
  });

  it("is closed to anonymous visitors (401) and to voters (403), for reading and for writing", async () => {
    const voter = await voterClient();
    expect((await new Client().fetch("/api/admin/settings")).status).toBe(401);
    expect((await voter.fetch("/api/admin/settings")).status).toBe(403);
    expect((await put(new Client(), { ...original, publishLivePrompts: true })).status).toBe(401);
    expect((await put(voter, { ...original, publishLivePrompts: true })).status).toBe(403);
    expect(await readArenaSettings(admin)).toEqual(original);
    // The page too: anonymous visitors are sent to sign in, voters are refused.
    expect((await new Client().fetch("/admin/settings")).headers.get("location")).toContain("/signin");
    expect((await voter.fetch("/admin/settings")).status).toBe(403);
  });

  it("names the field of a value out of bounds, missing or of the wrong type, and saves nothing", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ ...original, turnMaxChars: 0 }, "turnMaxChars"],
      [{ ...original, signedInFactor: 1.5 }, "signedInFactor"],
      [{ ...original, limitWindowS: 7 * 24 * 3600 + 1 }, "limitWindowS"],
      [{ ...original, publishLivePrompts: "yes" }, "publishLivePrompts"],
      [(({ liveInFlightPerModel: _omitted, ...rest }) => rest)(original), "liveInFlightPerModel"],
    ];
    for (const [body, field] of cases) {
      const res = await put(admin, body);
      expect(res.status, field).toBe(400);
      expect(res.body.error.field).toBe(field);
      expect(res.body.error.message).toContain(field);
    }
    expect(await readArenaSettings(admin)).toEqual(original);
  });

  it("saves every field for an admin, audited with the values before and after", async () => {
    const next: ArenaSettingsInput = {
      ...original, liveBattlesPerVoter: original.liveBattlesPerVoter + 1, turnsPerIp: original.turnsPerIp + 2, conversationMaxChars: 20_000,
    };
    const saved = await put(admin, next);
    expect(saved.status).toBe(200);
    expect(saved.body.settings).toMatchObject(next);
    expect(await readArenaSettings(admin)).toEqual(next);
    const entry = await db.auditLog.findFirstOrThrow({ where: { action: "arena.settings" }, orderBy: { createdAt: "desc" } });
    expect(entry).toMatchObject({ targetType: "arena_settings", targetId: "1" });
    expect(entry.before).toMatchObject({ liveBattlesPerVoter: original.liveBattlesPerVoter });
    expect(entry.after).toMatchObject({ liveBattlesPerVoter: next.liveBattlesPerVoter, conversationMaxChars: 20_000 });
  });

  it("the admin page shows a form with every field, linked from the admin nav", async () => {
    const html = await (await admin.fetch("/admin/settings")).text();
    expect(html).toContain('data-testid="admin-nav-settings"');
    for (const field of Object.keys(original)) expect(html).toContain(`data-testid="settings-${field}"`);
  });
});

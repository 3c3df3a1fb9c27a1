import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import { createUser } from "@/lib/users";
import { Client } from "./support/http";
import { ADMIN, adminClient } from "./support/users";

let admin: Client;
let me: { id: string };

async function patch(client: Client, id: string, body: unknown) {
  return client.json<{ user?: { role: string; disabled: boolean }; error?: { code: string } }>(`/api/admin/users/${id}`, {
    method: "PATCH", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
  });
}

beforeAll(async () => {
  admin = await adminClient();
  me = await db.user.findUniqueOrThrow({ where: { email: ADMIN.email } });
});

describe("admin users", () => {
  it("promotes and demotes, with audit entries", async () => {
    const user = await createUser({ email: `promote-${randomBytes(4).toString("hex")}@test.leitai`, password: "password-123" });
    expect((await patch(admin, user.id, { role: "admin" })).body.user?.role).toBe("admin");
    expect((await patch(admin, user.id, { role: "voter" })).body.user?.role).toBe("voter");
    expect((await patch(admin, user.id, { disabled: true })).body.user?.disabled).toBe(true);
    expect((await patch(admin, user.id, { disabled: false })).body.user?.disabled).toBe(false);
    const actions = (await db.auditLog.findMany({ where: { targetType: "user", targetId: user.id }, orderBy: { createdAt: "asc" } })).map((a) => a.action);
    expect(actions).toEqual(["user.promote", "user.demote", "user.disable", "user.enable"]);
  });

  it("an admin cannot disable themselves", async () => {
    const res = await patch(admin, me.id, { disabled: true });
    expect(res.status).toBe(409);
    expect(res.body.error?.code).toBe("conflict:user_self");
  });

  it("never demotes or disables the last enabled admin", async () => {
    // Make the seeded admin the only enabled one for the duration of the test.
    const others = await db.user.findMany({ where: { role: "admin", disabled: false, NOT: { id: me.id } }, select: { id: true } });
    await db.user.updateMany({ where: { id: { in: others.map((o) => o.id) } }, data: { disabled: true } });
    try {
      const demote = await patch(admin, me.id, { role: "voter" });
      expect(demote.status).toBe(409);
      expect(demote.body.error?.code).toBe("conflict:last_admin");
      expect((await db.user.findUniqueOrThrow({ where: { id: me.id } })).role).toBe("admin");

      // With a second admin, the demotion is allowed — and then the second one is the last.
      const second = await createUser({ email: `second-${randomBytes(4).toString("hex")}@test.leitai`, password: "password-123", role: "admin" });
      const secondClient = new Client();
      await secondClient.signIn(second.email, "password-123");
      expect((await patch(admin, second.id, { role: "voter" })).status).toBe(200);
      expect((await patch(admin, second.id, { role: "admin" })).status).toBe(200);
      expect((await patch(secondClient, me.id, { disabled: true })).status).toBe(200);
      const last = await patch(secondClient, second.id, { role: "voter" });
      expect(last.status).toBe(409);
      expect((await patch(secondClient, me.id, { disabled: false })).status).toBe(200);
      await patch(admin, second.id, { disabled: true });
    } finally {
      await db.user.update({ where: { id: me.id }, data: { role: "admin", disabled: false } });
      await db.user.updateMany({ where: { id: { in: others.map((o) => o.id) } }, data: { disabled: false } });
    }
  });
});

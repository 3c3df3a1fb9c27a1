import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import { authenticate } from "@/lib/users";
import { applyArenaSettings } from "./support/arena-settings";
import { Client } from "./support/http";
import { adminClient } from "./support/users";

// Accounts (issue 27, point 3): admins add users with a temporary password and reset
// passwords; every user changes their own; a password someone else chose must be replaced
// before an admin can do anything; open sign-up is an admin switch, off by default. Each
// change is audited.

const post = (body: unknown): RequestInit => ({ method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
const email = (what: string) => `${what}-${randomBytes(4).toString("hex")}@test.leitai`;
type Created = { user: { id: string; email: string; role: string; mustChangePassword: boolean }; temporaryPassword: string; error?: { code: string; field?: string } };

async function signedIn(address: string, password: string) {
  const client = new Client();
  await client.signIn(address, password);
  return client;
}

async function audit(userId: string) {
  return (await db.auditLog.findMany({ where: { targetType: "user", targetId: userId }, orderBy: { createdAt: "asc" } })).map((a) => a.action);
}

describe("accounts", () => {
  it("an admin adds a voter with a temporary password; the voter replaces it, and the old one stops working", async () => {
    const admin = await adminClient();
    const address = email("voter");
    const created = await admin.json<Created>("/api/admin/users", post({ email: ` ${address.toUpperCase()} `, role: "voter" }));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.user).toMatchObject({ email: address, role: "voter", mustChangePassword: true });
    const temporary = created.body.temporaryPassword;
    expect(temporary.length).toBeGreaterThanOrEqual(16);
    expect((await admin.json<Created>("/api/admin/users", post({ email: address }))).status).toBe(409);
    const bad = await admin.json<Created>("/api/admin/users", post({ email: "not-an-email" }));
    expect(bad.status).toBe(400);
    expect(bad.body.error?.field).toBe("email");

    const voter = await signedIn(address, temporary);
    const wrong = await voter.json<Created>("/api/account/password", post({ currentPassword: "wrong-password", newPassword: "a-new-password-1" }));
    expect(wrong.status).toBe(400);
    expect(wrong.body.error?.field).toBe("currentPassword");
    const short = await voter.json<Created>("/api/account/password", post({ currentPassword: temporary, newPassword: "short" }));
    expect(short.status).toBe(400);
    expect(short.body.error?.field).toBe("newPassword");
    expect((await voter.json("/api/account/password", post({ currentPassword: temporary, newPassword: "a-new-password-1" }))).status).toBe(200);
    expect(await authenticate({ email: address, password: temporary })).toBeNull();
    expect(await authenticate({ email: address, password: "a-new-password-1" })).toMatchObject({ email: address, mustChangePassword: false });

    // A reset: a new temporary password, the chosen one no longer works.
    const reset = await admin.json<Created>(`/api/admin/users/${created.body.user.id}/password`, post({}));
    expect(reset.status).toBe(200);
    expect(reset.body.user.mustChangePassword).toBe(true);
    expect(await authenticate({ email: address, password: "a-new-password-1" })).toBeNull();
    expect(await authenticate({ email: address, password: reset.body.temporaryPassword })).not.toBeNull();
    expect(await audit(created.body.user.id)).toEqual(["user.create", "user.password.change", "user.password.reset"]);
    // No password, temporary or not, is kept in the audit log.
    const entries = JSON.stringify(await db.auditLog.findMany({ where: { targetId: created.body.user.id } }));
    expect(entries).not.toContain(temporary);
    expect(entries).not.toContain(reset.body.temporaryPassword);
  });

  it("an admin whose password someone else chose can do nothing admin until replacing it", async () => {
    const admin = await adminClient();
    const address = email("admin");
    const created = await admin.json<Created>("/api/admin/users", post({ email: address, role: "admin" }));
    expect(created.status).toBe(201);
    const fresh = await signedIn(address, created.body.temporaryPassword);
    const refused = await fresh.json<Created>("/api/admin/users");
    expect(refused.status).toBe(403);
    expect(refused.body.error?.code).toBe("forbidden:password_change_required");
    // Admin pages send it to the account page first.
    const page = await fresh.fetch("/admin/models");
    expect(page.headers.get("location") ?? (await page.text())).toContain("/account?next=%2Fadmin%2Fmodels");
    expect((await fresh.json("/api/account/password", post({ currentPassword: created.body.temporaryPassword, newPassword: "admin-password-2" }))).status).toBe(200);
    expect((await fresh.json("/api/admin/users")).status).toBe(200);
  });

  it("only the signed-in change their password, and only admins add users or reset passwords", async () => {
    expect((await new Client().json("/api/account/password", post({ currentPassword: "x", newPassword: "y".repeat(12) }))).status).toBe(401);
    expect((await new Client().json("/api/admin/users", post({ email: email("anon") }))).status).toBe(401);
    const admin = await adminClient();
    const created = await admin.json<Created>("/api/admin/users", post({ email: email("plain") }));
    const voter = await signedIn(created.body.user.email, created.body.temporaryPassword);
    expect((await voter.json("/api/admin/users", post({ email: email("by-voter") }))).status).toBe(403);
    expect((await voter.json(`/api/admin/users/${created.body.user.id}/password`, post({}))).status).toBe(403);
  });

  it("open sign-up is off by default and an admin switch when on", async () => {
    const admin = await adminClient();
    const address = email("signup");
    const closed = await new Client().json<Created>("/api/signup", post({ email: address, password: "signup-password-1" }));
    expect(closed.status).toBe(403);
    expect(closed.body.error?.code).toBe("forbidden:signup_closed");
    expect((await new Client().fetch("/signup").then((r) => r.text()))).toContain('data-testid="signup-closed"');
    const before = await applyArenaSettings(admin, { signupOpen: true });
    try {
      const opened = await new Client().json<{ user: { id: string; role: string } }>("/api/signup", post({ email: address, password: "signup-password-1" }));
      expect(opened.status, JSON.stringify(opened.body)).toBe(201);
      expect(opened.body.user.role).toBe("voter");
      expect(await authenticate({ email: address, password: "signup-password-1" })).toMatchObject({ role: "voter", mustChangePassword: false });
      expect(await audit(opened.body.user.id)).toEqual(["user.signup"]);
      expect((await new Client().json("/api/signup", post({ email: address, password: "signup-password-1" }))).status).toBe(409);
      const weak = await new Client().json<Created>("/api/signup", post({ email: email("weak"), password: "short" }));
      expect(weak.status).toBe(400);
      expect(weak.body.error?.field).toBe("password");
    } finally {
      await applyArenaSettings(admin, { signupOpen: before.signupOpen });
    }
  });
});

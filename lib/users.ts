import type { Role, User } from "@prisma/client";
import { db } from "./db";
import { hashPassword, verifyPassword } from "./auth/password";
import { randomBytes } from "node:crypto";
import { z } from "zod";
import { recordAudit } from "./audit";
import { errors } from "./errors";

export type PublicUser = Pick<User, "id" | "email" | "name" | "role" | "disabled" | "mustChangePassword" | "createdAt" | "lastLoginAt">;

const publicFields = { id: true, email: true, name: true, role: true, disabled: true, mustChangePassword: true, createdAt: true, lastLoginAt: true } as const;

/** A password a user chooses: long enough to resist guessing, short enough to hash cheaply. */
export const newPasswordSchema = z.string().min(10, "tooShort").max(200, "tooLong");
export { adminEmailSchema as emailSchema } from "./schemas/user";

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** Checks a password; returns the user only when it matches and the account is enabled. */
export async function authenticate({ email, password }: { email: string; password: string }): Promise<PublicUser | null> {
  const user = await db.user.findUnique({ where: { email: normaliseEmail(email) } });
  if (!user || user.disabled) return null;
  if (!(await verifyPassword(password, user.passwordHash))) return null;
  await db.user.update({ where: { id: user.id }, data: { lastLoginAt: new Date() } });
  return { id: user.id, email: user.email, name: user.name, role: user.role, disabled: user.disabled, mustChangePassword: user.mustChangePassword, createdAt: user.createdAt, lastLoginAt: user.lastLoginAt };
}

export async function getUserById({ id }: { id: string }): Promise<PublicUser | null> {
  return db.user.findUnique({ where: { id }, select: publicFields });
}

export async function createUser({ email, password, name, role = "voter", mustChangePassword = false }: { email: string; password: string; name?: string; role?: Role; mustChangePassword?: boolean }): Promise<PublicUser> {
  const normalised = normaliseEmail(email);
  if (await db.user.findUnique({ where: { email: normalised }, select: { id: true } })) {
    throw errors.conflict("user", { key: "accountExists" });
  }
  return db.user.create({
    data: { email: normalised, name: name ?? null, role, mustChangePassword, passwordHash: await hashPassword(password) },
    select: publicFields,
  });
}

/** A password for someone else to replace: shown once to the admin who set it. */
export function temporaryPassword(): string {
  return randomBytes(12).toString("base64url");
}

/** The signed-in user replaces their own password; the current one must match. */
export async function changeOwnPassword({ userId, currentPassword, newPassword }: { userId: string; currentPassword: string; newPassword: string }): Promise<void> {
  const user = await db.user.findUnique({ where: { id: userId } });
  if (!user || user.disabled) throw errors.unauthorized();
  if (!(await verifyPassword(currentPassword, user.passwordHash))) throw errors.badRequest("password", { key: "currentPasswordWrong" }, "currentPassword");
  if (await verifyPassword(newPassword, user.passwordHash)) throw errors.badRequest("password", { key: "passwordUnchanged" }, "newPassword");
  await db.user.update({ where: { id: userId }, data: { passwordHash: await hashPassword(newPassword), mustChangePassword: false } });
  await recordAudit({ actorId: userId, action: "user.password.change", targetType: "user", targetId: userId });
}

/** Creates the admin when missing; an existing account keeps its password (re-running is safe). */
export async function ensureAdmin({ email, password, mustChangePassword = false }: { email: string; password: string; mustChangePassword?: boolean }): Promise<{ created: boolean }> {
  const normalised = normaliseEmail(email);
  const existing = await db.user.findUnique({ where: { email: normalised } });
  if (existing) {
    if (existing.role !== "admin") await db.user.update({ where: { id: existing.id }, data: { role: "admin" } });
    return { created: false };
  }
  await db.user.create({ data: { email: normalised, role: "admin", mustChangePassword, passwordHash: await hashPassword(password) } });
  return { created: true };
}

export async function countAdmins(): Promise<number> {
  return db.user.count({ where: { role: "admin", disabled: false } });
}

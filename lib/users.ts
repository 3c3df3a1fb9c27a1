import type { Role, User } from "@prisma/client";
import { db } from "./db";
import { hashPassword, verifyPassword } from "./auth/password";
import { errors } from "./errors";

export type PublicUser = Pick<User, "id" | "email" | "name" | "role" | "disabled" | "createdAt" | "lastLoginAt">;

const publicFields = { id: true, email: true, name: true, role: true, disabled: true, createdAt: true, lastLoginAt: true } as const;

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** Checks a password; returns the user only when it matches and the account is enabled. */
export async function authenticate({ email, password }: { email: string; password: string }): Promise<PublicUser | null> {
  const user = await db.user.findUnique({ where: { email: normaliseEmail(email) } });
  if (!user || user.disabled) return null;
  if (!(await verifyPassword(password, user.passwordHash))) return null;
  await db.user.update({ where: { id: user.id }, data: { lastLoginAt: new Date() } });
  return { id: user.id, email: user.email, name: user.name, role: user.role, disabled: user.disabled, createdAt: user.createdAt, lastLoginAt: user.lastLoginAt };
}

export async function getUserById({ id }: { id: string }): Promise<PublicUser | null> {
  return db.user.findUnique({ where: { id }, select: publicFields });
}

export async function createUser({ email, password, name, role = "voter" }: { email: string; password: string; name?: string; role?: Role }): Promise<PublicUser> {
  const normalised = normaliseEmail(email);
  if (await db.user.findUnique({ where: { email: normalised }, select: { id: true } })) {
    throw errors.conflict("user", "An account with this email already exists.");
  }
  return db.user.create({
    data: { email: normalised, name: name ?? null, role, passwordHash: await hashPassword(password) },
    select: publicFields,
  });
}

/** Creates the admin when missing; an existing account keeps its password (re-running is safe). */
export async function ensureAdmin({ email, password }: { email: string; password: string }): Promise<{ created: boolean }> {
  const normalised = normaliseEmail(email);
  const existing = await db.user.findUnique({ where: { email: normalised } });
  if (existing) {
    if (existing.role !== "admin") await db.user.update({ where: { id: existing.id }, data: { role: "admin" } });
    return { created: false };
  }
  await db.user.create({ data: { email: normalised, role: "admin", passwordHash: await hashPassword(password) } });
  return { created: true };
}

export async function countAdmins(): Promise<number> {
  return db.user.count({ where: { role: "admin", disabled: false } });
}

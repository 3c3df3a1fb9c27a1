import type { Role } from "@prisma/client";
import { z } from "zod";
import { recordAudit } from "../audit";
import { db } from "../db";
import { errors } from "../errors";
import { isWriteConflict } from "./db-errors";
import { hashPassword } from "../auth/password";
import type { NewUserInput } from "../schemas/user";
import { createUser, temporaryPassword } from "../users";

export const userChangeSchema = z.union([
  z.object({ role: z.enum(["admin", "voter"]) }),
  z.object({ disabled: z.boolean() }),
]);
export type UserChange = z.infer<typeof userChangeSchema>;

const fields = { id: true, email: true, name: true, role: true, disabled: true, mustChangePassword: true, createdAt: true, lastLoginAt: true } as const;

export { newUserSchema, type NewUserInput } from "../schemas/user";

/** An admin adds an account with a temporary password, returned once; the user replaces it at first sign-in. */
export async function createUserByAdmin({ input, actorId }: { input: NewUserInput; actorId: string }) {
  const password = temporaryPassword();
  const user = await createUser({ email: input.email, role: input.role, password, mustChangePassword: true });
  await recordAudit({ actorId, action: "user.create", targetType: "user", targetId: user.id, after: user });
  return { user, temporaryPassword: password };
}

/** An admin replaces a user's password with a temporary one, returned once, to be changed at the next sign-in. */
export async function resetPasswordByAdmin({ id, actorId }: { id: string; actorId: string }) {
  if (!(await db.user.findUnique({ where: { id }, select: { id: true } }))) throw errors.notFound("user");
  const password = temporaryPassword();
  const user = await db.user.update({ where: { id }, data: { passwordHash: await hashPassword(password), mustChangePassword: true }, select: fields });
  await recordAudit({ actorId, action: "user.password.reset", targetType: "user", targetId: id });
  return { user, temporaryPassword: password };
}

export async function listUsers({ q }: { q?: string } = {}) {
  return db.user.findMany({
    where: q ? { email: { contains: q, mode: "insensitive" } } : undefined,
    orderBy: [{ role: "asc" }, { createdAt: "asc" }],
    select: { ...fields, _count: { select: { auditLogs: true } } },
    take: 500,
  });
}

/**
 * Promote / demote / disable / enable. The last enabled admin can be neither demoted nor
 * disabled (409), and an admin cannot disable themselves. The count runs in a serialisable
 * transaction so two admins demoting each other at once cannot both succeed.
 */
export async function changeUser({ id, change, actorId }: { id: string; change: UserChange; actorId: string }) {
  if ("disabled" in change && change.disabled && id === actorId) {
    throw errors.conflict("user_self", { key: "userSelfDisable" });
  }
  try {
    return await changeInTransaction({ id, change, actorId });
  } catch (error) {
    if (isWriteConflict(error)) throw errors.conflict("user_busy", { key: "userBusy" });
    throw error;
  }
}

function changeInTransaction({ id, change, actorId }: { id: string; change: UserChange; actorId: string }) {
  return db.$transaction(async (tx) => {
    const before = await tx.user.findUnique({ where: { id }, select: fields });
    if (!before) throw errors.notFound("user");
    const losesAdmin = before.role === "admin" && !before.disabled &&
      (("role" in change && change.role !== "admin") || ("disabled" in change && change.disabled));
    if (losesAdmin && (await tx.user.count({ where: { role: "admin", disabled: false } })) <= 1) {
      throw errors.conflict("last_admin", { key: "lastAdmin" });
    }
    const after = await tx.user.update({ where: { id }, data: change as { role?: Role; disabled?: boolean }, select: fields });
    const action = "role" in change ? (change.role === "admin" ? "user.promote" : "user.demote") : change.disabled ? "user.disable" : "user.enable";
    await recordAudit({ actorId, action, targetType: "user", targetId: id, before, after }, tx);
    return after;
  }, { isolationLevel: "Serializable" });
}

export async function getAdminUser({ id }: { id: string }) {
  const row = await db.user.findUnique({ where: { id }, select: fields });
  if (!row) throw errors.notFound("user");
  return row;
}

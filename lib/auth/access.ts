import { errors, type AppError } from "../errors";
import { getUserById, type PublicUser } from "../users";

// Who may use the admin surfaces, in one place for the App Router guards (./session.ts) and the
// queue console the web server answers itself (lib/web/queue-console.ts).

/** The user a session names, fresh from the database; null when the account is gone or disabled. */
export async function activeUser(id: string | null | undefined): Promise<PublicUser | null> {
  if (!id) return null;
  const user = await getUserById({ id });
  return user && !user.disabled ? user : null;
}

export type AdminRefusal = "anonymous" | "not_admin" | "password_change_required";

/** Why this visitor may not use an admin surface; null for an admin who may. */
export function adminRefusal(user: PublicUser | null): AdminRefusal | null {
  if (!user) return "anonymous";
  if (user.role !== "admin") return "not_admin";
  // A password someone else chose (the seed's generated one, or a reset) is replaced first.
  if (user.mustChangePassword) return "password_change_required";
  return null;
}

/** The typed error an API answers a refusal with: 401 when anonymous, 403 otherwise. */
export function adminRefusalError(refusal: AdminRefusal): AppError {
  if (refusal === "anonymous") return errors.unauthorized();
  if (refusal === "not_admin") return errors.forbidden("admin", { key: "adminsOnly" });
  return errors.forbidden("password_change_required", { key: "changePasswordFirst" });
}

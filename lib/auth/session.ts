import { getServerSession } from "next-auth";
import { forbidden, redirect } from "next/navigation";
import { errors } from "../errors";
import type { PublicUser } from "../users";
import { activeUser, adminRefusal, adminRefusalError } from "./access";
import { authOptions } from "./options";

/** The signed-in, enabled user, fresh from the database; null for anonymous visitors. */
export async function currentUser(): Promise<PublicUser | null> {
  const session = await getServerSession(authOptions());
  return activeUser((session?.user as { id?: string } | undefined)?.id);
}

/**
 * For /api/admin/* handlers: 401 when anonymous, 403 when not an admin, and 403 while the
 * admin's password is one someone else chose (the seed's generated one, or a reset).
 */
export async function requireAdmin(): Promise<PublicUser> {
  const user = await currentUser();
  const refusal = adminRefusal(user);
  if (refusal) throw adminRefusalError(refusal);
  return user!;
}

/** For /admin pages: anonymous visitors go to sign-in, signed-in non-admins get 403, a password to replace goes first. */
export async function requireAdminPage(path: string): Promise<PublicUser> {
  const user = await currentUser();
  const refusal = adminRefusal(user);
  if (refusal === "anonymous") redirect(`/signin?callbackUrl=${encodeURIComponent(path)}`);
  if (refusal === "not_admin") forbidden();
  if (refusal === "password_change_required") redirect(`/account?next=${encodeURIComponent(path)}`);
  return user!;
}

/** For the signed-in user's own routes: 401 when anonymous. */
export async function requireUser(): Promise<PublicUser> {
  const user = await currentUser();
  if (!user) throw errors.unauthorized();
  return user;
}

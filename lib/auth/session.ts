import { getServerSession } from "next-auth";
import { forbidden, redirect } from "next/navigation";
import { errors } from "../errors";
import { getUserById, type PublicUser } from "../users";
import { assertAdmin } from "./admin";
import { authOptions } from "./options";

/** The signed-in, enabled user, fresh from the database; null for anonymous visitors. */
export async function currentUser(): Promise<PublicUser | null> {
  const session = await getServerSession(authOptions());
  const id = (session?.user as { id?: string } | undefined)?.id;
  if (!id) return null;
  const user = await getUserById({ id });
  return user && !user.disabled ? user : null;
}

/**
 * For /api/admin/* handlers: 401 when anonymous, 403 when not an admin, and 403 while the
 * admin's password is one someone else chose (the seed's generated one, or a reset).
 */
export async function requireAdmin(): Promise<PublicUser> {
  return assertAdmin(await currentUser());
}

/** For /admin pages: anonymous visitors go to sign-in, signed-in non-admins get 403, a password to replace goes first. */
export async function requireAdminPage(path: string): Promise<PublicUser> {
  const user = await currentUser();
  if (!user) redirect(`/signin?callbackUrl=${encodeURIComponent(path)}`);
  if (user.role !== "admin") forbidden();
  if (user.mustChangePassword) redirect(`/account?next=${encodeURIComponent(path)}`);
  return user;
}

/** For the signed-in user's own routes: 401 when anonymous. */
export async function requireUser(): Promise<PublicUser> {
  const user = await currentUser();
  if (!user) throw errors.unauthorized();
  return user;
}

import { errors } from "../errors";
import type { PublicUser } from "../users";

/**
 * The admin rule, framework-free so the web server can apply it outside Next.js: 401 when
 * anonymous, 403 when not an admin, and 403 while the admin's password is one someone else
 * chose (the seed's generated one, or a reset).
 */
export function assertAdmin(user: PublicUser | null): PublicUser {
  if (!user) throw errors.unauthorized();
  if (user.role !== "admin") throw errors.forbidden("admin", "Admins only.");
  if (user.mustChangePassword) throw errors.forbidden("password_change_required", "Change your password first, on /account.");
  return user;
}

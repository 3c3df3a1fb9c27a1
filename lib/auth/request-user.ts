import type { IncomingMessage } from "node:http";
import { getToken } from "next-auth/jwt";
import { env } from "../env";
import { getUserById, type PublicUser } from "../users";

/**
 * The signed-in, enabled user of a plain Node request, fresh from the database, for what the
 * web server answers without Next.js (handlers use lib/auth/session.ts). `cookies`: the
 * request's, parsed.
 */
export async function userOfRequest(req: IncomingMessage, cookies: Map<string, string>): Promise<PublicUser | null> {
  const { NEXTAUTH_SECRET, NEXTAUTH_URL } = env();
  const token = await getToken({
    req: Object.assign(req, { cookies: Object.fromEntries(cookies) }),
    secret: NEXTAUTH_SECRET,
    // The cookie name next-auth chose when it set the session: __Secure- prefixed on https.
    secureCookie: NEXTAUTH_URL?.startsWith("https://") ?? false,
  });
  if (!token?.sub) return null;
  const user = await getUserById({ id: token.sub });
  return user && !user.disabled ? user : null;
}

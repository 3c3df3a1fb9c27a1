import type { IncomingMessage } from "node:http";
import { getToken } from "next-auth/jwt";
import { env } from "../env";
import { parseCookies } from "../web/respond";
import type { PublicUser } from "../users";
import { activeUser } from "./access";

/**
 * The signed-in, enabled user of a plain Node request, fresh from the database, for what the
 * web server answers without Next.js (the queue console, /metrics); handlers use ./session.ts.
 */
export async function userOfRequest(req: IncomingMessage): Promise<PublicUser | null> {
  const { NEXTAUTH_SECRET, NEXTAUTH_URL } = env();
  const token = await getToken({
    req: { headers: req.headers, cookies: Object.fromEntries(parseCookies(req.headers.cookie)) } as unknown as Parameters<typeof getToken>[0]["req"],
    secret: NEXTAUTH_SECRET,
    // next-auth names its cookie __Secure-… when the site is served over https.
    secureCookie: NEXTAUTH_URL?.startsWith("https://") ?? false,
  });
  return activeUser(token?.sub);
}

import { randomUUID } from "node:crypto";
import { cookies, headers } from "next/headers";
import { currentUser } from "./auth/session";
import { env } from "./env";
import { clientIp, hashIp, isSessionCookie, signVoterId, verifyVoterCookie, VOTER_COOKIE, type Voter } from "./voter-id";

/**
 * Who is voting: a signed-in user, or an anonymous visitor identified by a signed,
 * httpOnly cookie that is issued here on first use (route handlers only).
 */
export async function resolveVoter({ issueCookie }: { issueCookie: boolean }): Promise<Voter | null> {
  const headerList = await headers();
  const ipHash = hashIp(clientIp(headerList));
  const jar = await cookies();
  // Only a request carrying a session cookie can be a signed-in user; skipping the session
  // lookup for everyone else keeps the anonymous vote path cheap.
  const hasSession = jar.getAll().some((c) => isSessionCookie(c.name));
  const user = hasSession ? await currentUser() : null;
  if (user) return { voterKey: `user:${user.id}`, userId: user.id, ipHash };
  const existing = verifyVoterCookie(jar.get(VOTER_COOKIE)?.value);
  if (existing) return { voterKey: `anon:${existing}`, userId: null, ipHash };
  if (!issueCookie) return null;
  const id = randomUUID();
  jar.set(VOTER_COOKIE, signVoterId(id), {
    httpOnly: true,
    sameSite: "lax",
    secure: env().NEXTAUTH_URL?.startsWith("https://") ?? false,
    path: "/",
    maxAge: 60 * 60 * 24 * 365,
  });
  return { voterKey: `anon:${id}`, userId: null, ipHash };
}

import { createHmac, randomUUID, timingSafeEqual } from "node:crypto";
import { cookies, headers } from "next/headers";
import { currentUser } from "./auth/session";
import { env } from "./env";

export const VOTER_COOKIE = "leitai_voter";

export type Voter = { voterKey: string; userId: string | null; ipHash: string };

function sign(value: string): string {
  return createHmac("sha256", env().LEITAI_SECRET).update(`voter:${value}`).digest("base64url");
}

export function signVoterId(id: string): string {
  return `${id}.${sign(id)}`;
}

export function verifyVoterCookie(cookie: string | undefined): string | null {
  if (!cookie) return null;
  const dot = cookie.lastIndexOf(".");
  if (dot <= 0) return null;
  const id = cookie.slice(0, dot);
  const given = Buffer.from(cookie.slice(dot + 1));
  const expected = Buffer.from(sign(id));
  return given.length === expected.length && timingSafeEqual(given, expected) ? id : null;
}

/** IPs are stored only as keyed hashes, enough to rate-limit and moderate. */
export function hashIp(ip: string): string {
  return createHmac("sha256", env().LEITAI_SECRET).update(`ip:${ip}`).digest("hex").slice(0, 32);
}

export function clientIp(headerList: Headers): string {
  // The last X-Forwarded-For hop is the one our own server (or proxy) added; earlier ones
  // are whatever the client claimed.
  const forwarded = headerList.get("x-forwarded-for");
  const last = forwarded?.split(",").map((s) => s.trim()).filter(Boolean).pop();
  return last ?? headerList.get("x-real-ip") ?? "unknown";
}

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
  const hasSession = jar.getAll().some((c) => c.name.endsWith("next-auth.session-token"));
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

import { createHmac, timingSafeEqual } from "node:crypto";
import { env } from "./env";

// Voter identity without any framework: the vote fast path (lib/web) and the Next.js
// handlers (lib/voter.ts) must agree on cookies and IP hashes byte for byte.

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

/**
 * The client's address. The web server (lib/web/server.ts) rewrites X-Forwarded-For before
 * any handler runs: the socket's address, or, behind a trusted proxy, the proxy's own header,
 * whose last hop is the address the proxy saw. Either way the last hop is one we vouch for.
 */
export function clientIp(headerList: { get(name: string): string | null }): string {
  const forwarded = headerList.get("x-forwarded-for");
  const last = forwarded?.split(",").map((s) => s.trim()).filter(Boolean).pop();
  return last ?? "unknown";
}

/** next-auth's session cookie (with or without the __Secure- prefix). */
export function isSessionCookie(name: string): boolean {
  return name.endsWith("next-auth.session-token");
}

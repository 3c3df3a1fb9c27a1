import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { adminRefusal, adminRefusalError } from "../auth/access";
import { userOfRequest } from "../auth/request-user";
import { env } from "../env";

// Who may read the site's /metrics: Prometheus with LEITAI_METRICS_TOKEN as a bearer token,
// or a signed-in admin. Route labels and queue depths are no voter's business.

function sameSecret(given: string, expected: string): boolean {
  // Digests first: equal lengths for timingSafeEqual, and the token's length stays hidden.
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** The metrics token from `Authorization: Bearer …`, when it is the configured one. */
export function hasMetricsToken(authorization: string | undefined, token: string | undefined): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
  return Boolean(token && match && sameSecret(match[1]!, token));
}

/** Throws 401 (anonymous, or a wrong token) or 403 (signed in, but not an admin ready to act). */
export async function assertMetricsReader(req: IncomingMessage): Promise<void> {
  if (hasMetricsToken(req.headers.authorization, env().LEITAI_METRICS_TOKEN)) return;
  const refusal = adminRefusal(await userOfRequest(req));
  if (refusal) throw adminRefusalError(refusal);
}

import type { IncomingMessage, ServerResponse } from "node:http";
import { isLang, LANG_COOKIE, langFromAcceptLanguage, type Lang } from "../i18n/lang";
import securityHeaders from "./security-headers.json";

// What the web server needs for the requests it answers itself, beside Next.js: the anonymous
// vote fast path and the queue console.

/** The headers next.config.js gives every Next.js response. */
export const SECURITY_HEADERS: Record<string, string> = Object.fromEntries(securityHeaders.map((h) => [h.key, h.value]));

export function parseCookies(header: string | undefined): Map<string, string> {
  const jar = new Map<string, string>();
  if (!header) return jar;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    try {
      value = decodeURIComponent(value);
    } catch {
      // kept as sent, like Next.js does
    }
    if (!jar.has(name)) jar.set(name, value);
  }
  return jar;
}

/** The reader's language, as lib/lang-server.ts reads it for Next.js: the switch's cookie, else the browser's. */
export function requestLang(req: IncomingMessage, cookies = parseCookies(req.headers.cookie)): Lang {
  const chosen = cookies.get(LANG_COOKIE);
  return isLang(chosen) ? chosen : langFromAcceptLanguage([req.headers["accept-language"] ?? []].flat().join(", "));
}

/** A JSON answer with the security headers, never cached. */
export function send(res: ServerResponse, status: number, headers: Record<string, string>, body: unknown) {
  const json = JSON.stringify(body);
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    ...headers,
    "Content-Type": "application/json",
    "Content-Length": String(Buffer.byteLength(json)),
    "Cache-Control": "no-store",
  });
  res.end(json);
}

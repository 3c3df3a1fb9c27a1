// Where a link may send someone after signing in or changing a password: a path on this site
// only, or a crafted link could send a freshly signed-in admin to a look-alike page.

const BASE = "http://leitai.invalid";

/**
 * `raw` as a path on this site, or null. Read as a browser reads it: "//host", "/\host" and a
 * tab or newline inside ("/<TAB>/host") all name another host, so they are refused.
 */
export function localPath(raw: string | null | undefined): string | null {
  if (!raw?.startsWith("/")) return null;
  let url: URL;
  try {
    url = new URL(raw, BASE);
  } catch {
    return null;
  }
  // The resolved path, not the raw one: "/.//host" resolves to "//host", which names a host again.
  const path = url.pathname + url.search + url.hash;
  return url.origin === BASE && !path.startsWith("//") ? path : null;
}

/** Where sign-in goes when no page asked for it: the landing picks by role. */
export const SIGNED_IN_LANDING = "/signin/landing";

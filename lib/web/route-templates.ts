import { readdirSync } from "node:fs";
import path from "node:path";

// A request's route as its app/ template (/api/battles/[id]/vote, /models/[slug]): the label
// of the site's HTTP metrics. Templates come from the route files on disk, never from the
// raw path, so a label can only take as many values as app/ has routes.

/** Next.js build assets, Next's image optimiser and data requests: one label for them all. */
export const NEXT_ASSETS_ROUTE = "/_next";
/** A path no route file serves (a 404, a probe for /wp-login.php). */
export const UNKNOWN_ROUTE = "other";

const ROUTE_FILE = /^(page|route)\.(tsx|ts|jsx|js|mdx|md)$/;

type Kind = "static" | "dynamic" | "catchAll" | "optionalCatchAll";
// Next.js prefers a static segment to a dynamic one, and both to a catch-all.
const PRECEDENCE: Record<Kind, number> = { static: 0, dynamic: 1, catchAll: 2, optionalCatchAll: 3 };

type Segment = { kind: Kind; text: string };
type Template = { route: string; segments: Segment[] };

function segmentOf(text: string): Segment {
  if (text.startsWith("[[...") && text.endsWith("]]")) return { kind: "optionalCatchAll", text };
  if (text.startsWith("[...") && text.endsWith("]")) return { kind: "catchAll", text };
  if (text.startsWith("[") && text.endsWith("]")) return { kind: "dynamic", text };
  return { kind: "static", text };
}

/**
 * The URL templates of every page and route handler under `appDir`: route groups "(admin)"
 * and parallel slots "@modal" take no part of the URL; private folders "_lib" and
 * intercepting routes "(.)photo" serve none of their own.
 */
export function routeTemplates(appDir: string): string[] {
  const routes = new Set<string>();
  const files = readdirSync(appDir, { recursive: true, encoding: "utf8" });
  for (const file of files) {
    const parts = file.split(path.sep);
    if (!ROUTE_FILE.test(parts.pop()!)) continue;
    if (parts.some((p) => p.startsWith("_") || /^\(\.+\)/.test(p))) continue;
    const url = parts.filter((p) => !(p.startsWith("(") && p.endsWith(")")) && !p.startsWith("@"));
    routes.add(`/${url.join("/")}`);
  }
  return [...routes].sort();
}

function compareTemplates(a: Template, b: Template): number {
  for (let i = 0; i < Math.min(a.segments.length, b.segments.length); i++) {
    const d = PRECEDENCE[a.segments[i]!.kind] - PRECEDENCE[b.segments[i]!.kind];
    if (d !== 0) return d;
  }
  return b.segments.length - a.segments.length;
}

function matches(template: Segment[], parts: string[]): boolean {
  for (let i = 0; i < template.length; i++) {
    const segment = template[i]!;
    if (segment.kind === "optionalCatchAll") return true;
    if (segment.kind === "catchAll") return parts.length > i;
    if (i >= parts.length) return false;
    if (segment.kind === "static" && segment.text !== parts[i]) return false;
  }
  return template.length === parts.length;
}

function decoded(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/** Maps a request URL to its route template, NEXT_ASSETS_ROUTE or UNKNOWN_ROUTE. */
export function routeMatcher(routes: string[], extra: string[] = []): (url: string) => string {
  const templates: Template[] = [...routes, ...extra]
    .map((route) => ({ route, segments: route.split("/").filter(Boolean).map(segmentOf) }))
    .sort(compareTemplates);
  return (url) => {
    const pathname = url.split(/[?#]/, 1)[0]!;
    if (pathname === NEXT_ASSETS_ROUTE || pathname.startsWith(`${NEXT_ASSETS_ROUTE}/`)) return NEXT_ASSETS_ROUTE;
    const parts = pathname.split("/").filter(Boolean).map(decoded);
    return templates.find((t) => matches(t.segments, parts))?.route ?? UNKNOWN_ROUTE;
  };
}

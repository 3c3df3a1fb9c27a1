import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { hasMetricsToken } from "@/lib/web/metrics-access";
import { routeMatcher, routeTemplates } from "@/lib/web/route-templates";

const APP_DIR = path.resolve(__dirname, "..", "..", "app");

describe("route templates", () => {
  const fixture = mkdtempSync(path.join(tmpdir(), "leitai-app-"));
  afterAll(() => rmSync(fixture, { recursive: true, force: true }));

  function touch(file: string) {
    mkdirSync(path.dirname(path.join(fixture, file)), { recursive: true });
    writeFileSync(path.join(fixture, file), "");
  }

  it("come from page and route files; groups and slots leave the URL, private and intercepting folders serve nothing", () => {
    for (const file of ["page.tsx", "layout.tsx", "(shop)/cart/page.tsx", "docs/[[...path]]/page.tsx", "files/[...path]/route.ts",
      "_components/page.tsx", "feed/@modal/(.)photo/[id]/page.tsx", "feed/@modal/default.tsx", "feed/page.tsx", "models/[slug]/page.tsx",
      "models/new/page.tsx", "api/x/route.js", "globals.css"]) touch(file);
    expect(routeTemplates(fixture)).toEqual(["/", "/api/x", "/cart", "/docs/[[...path]]", "/feed", "/files/[...path]", "/models/[slug]", "/models/new"]);
  });

  it("map a path to its template, a static segment before a dynamic one and both before a catch-all", () => {
    const routeOf = routeMatcher(["/", "/models/[slug]", "/models/new", "/models/[slug]/vs/[other]", "/files/[...path]", "/docs/[[...path]]"], ["/metrics"]);
    expect(routeOf("/")).toBe("/");
    expect(routeOf("/models/new")).toBe("/models/new");
    expect(routeOf("/models/chinese-alpaca-2-7b?tab=votes")).toBe("/models/[slug]");
    expect(routeOf("/models/a/vs/b/")).toBe("/models/[slug]/vs/[other]");
    expect(routeOf("/models/a/vs")).toBe("other");
    expect(routeOf("/files")).toBe("other");
    expect(routeOf("/files/a/b/c")).toBe("/files/[...path]");
    expect(routeOf("/docs")).toBe("/docs/[[...path]]");
    expect(routeOf("/metrics")).toBe("/metrics");
    expect(routeOf("/wp-login.php")).toBe("other");
    expect(routeOf("/_next/static/chunks/app/page-1a2b.js")).toBe("/_next");
    expect(routeOf("/_next/image?url=%2Fx.png&w=64")).toBe("/_next");
  });

  it("cover the arena's own routes, so an id or a slug never becomes a label", () => {
    const routes = routeTemplates(APP_DIR);
    expect(routes).toEqual(expect.arrayContaining(["/", "/api/battles/[id]/vote", "/api/auth/[...nextauth]", "/models/[slug]", "/models/[slug]/vs/[other]"]));
    const routeOf = routeMatcher(routes);
    expect(routeOf("/api/battles/cmabc123/vote")).toBe("/api/battles/[id]/vote");
    expect(routeOf("/api/auth/callback/credentials")).toBe("/api/auth/[...nextauth]");
    expect(routeOf("/models/%E6%A8%A1%E5%9E%8B")).toBe("/models/[slug]");
    expect(routeOf("/admin/models/new")).toBe("/admin/models/new");
    expect(routeOf("/admin/models/cmabc123")).toBe("/admin/models/[id]");
  });
});

describe("metrics token", () => {
  const token = "t".repeat(40);

  it("lets in only a bearer token equal to the configured one", () => {
    expect(hasMetricsToken(`Bearer ${token}`, token)).toBe(true);
    expect(hasMetricsToken(`bearer ${token}`, token)).toBe(true);
    expect(hasMetricsToken(`Bearer ${token}x`, token)).toBe(false);
    expect(hasMetricsToken(`Basic ${token}`, token)).toBe(false);
    expect(hasMetricsToken(undefined, token)).toBe(false);
  });

  it("lets nobody in by token when none is configured", () => {
    expect(hasMetricsToken("Bearer ", undefined)).toBe(false);
    expect(hasMetricsToken("Bearer anything", undefined)).toBe(false);
  });
});

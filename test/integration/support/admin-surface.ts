import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

// Every admin page and /api/admin route, found on disk so a new one is covered the day
// it is added. Dynamic segments get a placeholder id (an admin then gets 404, never 401/403).
const ROOT = path.resolve(__dirname, "..", "..", "..");
const PLACEHOLDER = "does-not-exist";

function walk(dir: string, file: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) out.push(...walk(full, file));
    else if (entry === file) out.push(full);
  }
  return out;
}

function urlOf(file: string, appDir: string): string {
  const rel = path.relative(appDir, path.dirname(file)).split(path.sep);
  const parts = rel
    .filter((p) => !(p.startsWith("(") && p.endsWith(")")))
    .map((p) => (p.startsWith("[") ? PLACEHOLDER : p));
  return "/" + parts.join("/");
}

export type AdminEndpoint = { kind: "page" | "route"; url: string; method: string; dynamic: boolean };

export function adminSurface(): AdminEndpoint[] {
  const appDir = path.join(ROOT, "app");
  const pages = walk(path.join(appDir, "admin"), "page.tsx").map((f) => ({
    kind: "page" as const, url: urlOf(f, appDir), method: "GET", dynamic: f.includes("["),
  }));
  const routes = walk(path.join(appDir, "api", "admin"), "route.ts").flatMap((f) => {
    const source = readFileSync(f, "utf8");
    const methods = ["GET", "POST", "PUT", "PATCH", "DELETE"].filter((m) =>
      new RegExp(`export (const|async function|function) ${m}\\b`).test(source),
    );
    return methods.map((method) => ({ kind: "route" as const, url: urlOf(f, appDir), method, dynamic: f.includes("[") }));
  });
  return [...pages, ...routes];
}

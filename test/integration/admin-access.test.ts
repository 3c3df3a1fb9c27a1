import { beforeAll, describe, expect, it } from "vitest";
import { Client } from "./support/http";
import { adminSurface } from "./support/admin-surface";
import { adminClient, voterClient } from "./support/users";

const surface = adminSurface();
let admin: Client;
let voter: Client;

beforeAll(async () => {
  [admin, voter] = await Promise.all([adminClient(), voterClient()]);
});

function request(client: Client, e: (typeof surface)[number]) {
  const init: RequestInit = { method: e.method };
  if (e.method !== "GET") {
    init.headers = { "content-type": "application/json" };
    init.body = "{}";
  }
  return client.fetch(e.url, init);
}

describe("admin surface", () => {
  it("finds the admin pages and routes on disk", () => {
    expect(surface.some((e) => e.kind === "page" && e.url === "/admin")).toBe(true);
    expect(surface.some((e) => e.kind === "route")).toBe(true);
  });

  for (const e of surface) {
    describe(`${e.method} ${e.url}`, () => {
      it("anonymous: 401, or a redirect to sign-in for pages", async () => {
        const res = await request(new Client(), e);
        if (e.kind === "page") {
          expect([307, 303, 302]).toContain(res.status);
          expect(res.headers.get("location")).toContain("/signin");
        } else {
          expect(res.status).toBe(401);
        }
      });

      it("voter: 403", async () => {
        expect((await request(voter, e)).status).toBe(403);
      });

      it("admin: allowed", async () => {
        const res = await request(admin, e);
        // A placeholder id may not exist, and a body-less write may be invalid; neither is an auth failure.
        const allowed = e.dynamic ? [200, 404] : e.method === "GET" ? [200] : [200, 201, 400, 404];
        expect(allowed).toContain(res.status);
      });
    });
  }
});

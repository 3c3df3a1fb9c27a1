import type { ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BASE_URL } from "./support/http";
import { freePort, startSite, ThrowawayPostgres } from "./support/processes";

describe("GET /api/health", () => {
  it("reports both services up on the test server", async () => {
    const res = await fetch(`${BASE_URL}/api/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "ok", postgres: { ok: true }, redis: { ok: true } });
  });

  describe("when PostgreSQL stops", () => {
    let pg: ThrowawayPostgres;
    let site: ChildProcess;
    let url: string;

    beforeAll(async () => {
      pg = new ThrowawayPostgres(await freePort());
      pg.start();
      const port = await freePort();
      site = await startSite(port, { DATABASE_URL: pg.url });
      url = `http://127.0.0.1:${port}/api/health`;
    });

    afterAll(() => {
      site?.kill();
      try { pg?.stop(); } catch { /* already stopped by the test */ }
    });

    it("answers 200 while it runs and 503 naming PostgreSQL once it is stopped", async () => {
      expect((await fetch(url)).status).toBe(200);
      pg.stop();
      const res = await fetch(url);
      expect(res.status).toBe(503);
      const body = await res.json();
      expect(body.status).toBe("degraded");
      expect(body.postgres).toMatchObject({ ok: false, message: "PostgreSQL is not reachable" });
      expect(body.redis.ok).toBe(true);
    });
  });
});

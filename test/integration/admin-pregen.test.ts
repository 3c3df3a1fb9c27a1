import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import type { Client } from "./support/http";
import { adminClient } from "./support/users";

// Starting, watching and cancelling pre-generation through the admin API (no worker runs
// here, so the run stays queued until it is cancelled).

const run = randomBytes(4).toString("hex");
let admin: Client;

async function post(path: string, body: unknown) {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are checked field by field
  return admin.json<Record<string, any>>(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
}

beforeAll(async () => {
  admin = await adminClient();
});

afterAll(async () => {
  await db.model.updateMany({ where: { slug: { contains: run } }, data: { status: "disabled" } });
});

describe("pre-generation", () => {
  it("starts one run per model, reports progress, cancels, and audits", async () => {
    const models = await Promise.all([0, 1].map((i) =>
      db.model.create({ data: { slug: `pregen-${run}-${i}`, displayName: `P${i}`, kind: "openai", engine: { baseUrl: "http://127.0.0.1:9/v1", remoteModel: "m" } } })));
    const category = await db.category.findUniqueOrThrow({ where: { slug: "writing" } });
    expect((await post("/api/admin/pregen", { modelIds: models.map((m) => m.id), scope: "category" })).body.error.field).toBe("categoryId");
    const started = await post("/api/admin/pregen", { modelIds: models.map((m) => m.id), scope: "category", categoryId: category.id });
    expect(started.status).toBe(201);
    const runIds = started.body.runIds as string[];
    expect(runIds).toHaveLength(2);
    const one = await admin.json<{ run: { progress: { status: string; total: number } } }>(`/api/admin/pregen/${runIds[0]}`);
    expect(one.body.run.progress.status).toBe("running");
    const list = await admin.json<{ runs: { id: string }[] }>("/api/admin/pregen");
    expect(list.body.runs.map((r) => r.id)).toEqual(expect.arrayContaining(runIds));
    expect((await post(`/api/admin/pregen/${runIds[0]}/cancel`, {})).status).toBe(200);
    expect((await db.pregenRun.findUniqueOrThrow({ where: { id: runIds[0] } })).status).toBe("cancelled");
    expect((await post(`/api/admin/pregen/${runIds[0]}/retry`, {})).body).toEqual({ retried: 0 });
    await post(`/api/admin/pregen/${runIds[1]}/cancel`, {});
    const actions = await db.auditLog.findMany({ where: { targetType: "pregen_run", targetId: { in: runIds } } });
    expect(actions.map((a) => a.action).sort()).toEqual(["pregen.cancel", "pregen.cancel", "pregen.retry", "pregen.start", "pregen.start"]);
  });

  it("refuses a disabled model", async () => {
    const model = await db.model.create({ data: { slug: `pregen-${run}-off`, displayName: "off", kind: "openai", status: "disabled" } });
    const res = await post("/api/admin/pregen", { modelIds: [model.id], scope: "all" });
    expect(res.status).toBe(409);
  });
});

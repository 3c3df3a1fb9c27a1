import { execFileSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import { uniq } from "./support/arena";
import { Client } from "./support/http";
import { freePort, ROOT, startSite } from "./support/processes";
import { ADMIN, adminClient } from "./support/users";

// Answers moving between arenas (issue 26): an offline model's answer set, imported here with
// its questions (single and multi-turn), exported, imported into a fresh arena (its own database,
// migrated and seeded, its own site) that has none of the questions, and exported there: the
// same bytes, in JSONL and in CSV.

const tag = uniq("fresh");
const QUESTIONS = 100;
const MULTI = new Set([7, 40, 93]);
const post = (body: unknown): RequestInit => ({ method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
type Report = { rows: number; matched: number; newQuestions: number; written: number; errorCount: number; errors: unknown[] };

/** Questions and answers written to trip a careless CSV or JSON writer: quotes, commas, new lines, CJK, full-width forms. */
function sourceRows() {
  return Array.from({ length: QUESTIONS }, (_, i) => {
    const question = `${tag} 问题 ${i}: "quoted", comma, and\nnew line — ＡＢＣ？`;
    const base = { question_id: `${tag}-q${i}`, question, category: tag };
    if (!MULTI.has(i)) return { ...base, answer: `答案 ${i}: ${i * i}, "so"\n\tindented` };
    const turns = [question, `第二轮 ${i}, "again"`, `third turn ${i}\r\nwith CRLF`];
    return { ...base, turns, answers: turns.map((_, t) => `turn ${t} answer of ${i}, "q"\n`) };
  });
}

async function createOffline(client: Client, slug: string) {
  const res = await client.json<{ model: { id: string } }>("/api/admin/models", post({ kind: "offline", slug, displayName: `Offline ${slug}`, organisation: "Elsewhere" }));
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.model.id;
}

async function importInto(client: Client, modelId: string, format: "jsonl" | "csv", body: BodyInit) {
  const res = await client.json<{ report: Report }>(`/api/admin/models/${modelId}/answers?format=${format}&createQuestions=1`, { method: "POST", body });
  expect(res.status, JSON.stringify(res.body).slice(0, 2000)).toBe(201);
  return res.body.report;
}

async function exportOf(client: Client, modelId: string, format: "jsonl" | "csv") {
  const res = await client.fetch(`/api/admin/models/${modelId}/answers?format=${format}`);
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

/** A second arena: a database of its own beside the test one, migrated and seeded, and the built site on it. */
class FreshArena {
  readonly name = `leitai_fresh_${randomBytes(4).toString("hex")}`;
  site?: ChildProcess;
  client?: Client;
  private readonly server = (() => {
    const url = new URL(process.env.DATABASE_URL!);
    url.pathname = "/postgres";
    return url.toString();
  })();
  readonly url = (() => {
    const url = new URL(process.env.DATABASE_URL!);
    url.pathname = `/${this.name}`;
    return url.toString();
  })();

  private async sql(statement: string) {
    const client = new pg.Client({ connectionString: this.server });
    await client.connect();
    try { await client.query(statement); } finally { await client.end(); }
  }

  async start() {
    await this.sql(`CREATE DATABASE ${this.name}`);
    const env = { ...process.env, DATABASE_URL: this.url, LEITAI_ADMIN_EMAIL: ADMIN.email, LEITAI_ADMIN_PASSWORD: ADMIN.password };
    execFileSync(`${ROOT}/node_modules/.bin/prisma`, ["migrate", "deploy"], { cwd: ROOT, env, stdio: "pipe" });
    execFileSync(`${ROOT}/node_modules/.bin/tsx`, ["prisma/seed.ts"], { cwd: ROOT, env, stdio: "pipe" });
    const port = await freePort();
    // Its own Redis database too, so nothing it queues reaches this run's workers.
    const redis = new URL(process.env.REDIS_URL!);
    redis.pathname = "/13";
    this.site = await startSite(port, { DATABASE_URL: this.url, REDIS_URL: redis.toString(), NEXTAUTH_URL: `http://localhost:${port}` });
    this.client = new Client(`http://localhost:${port}`);
    await this.client.signIn(ADMIN.email, ADMIN.password);
  }

  async stop() {
    if (this.site && this.site.exitCode === null) {
      const exited = new Promise((r) => this.site!.once("exit", r));
      this.site.kill();
      await exited;
    }
    await this.sql(`DROP DATABASE IF EXISTS ${this.name} WITH (FORCE)`);
  }
}

let admin: Client;
const fresh = new FreshArena();
const exported: Record<"jsonl" | "csv", Buffer> = { jsonl: Buffer.alloc(0), csv: Buffer.alloc(0) };
let sourceModel: string;

beforeAll(async () => {
  admin = await adminClient();
  const category = await admin.json("/api/admin/categories", post({ slug: tag, nameZh: `别处 ${tag}`, nameEn: `Elsewhere ${tag}`, sortOrder: 970 }));
  expect(category.status, JSON.stringify(category.body)).toBe(201);
  sourceModel = await createOffline(admin, uniq("src"));
  await fresh.start();
}, 120_000);

afterAll(async () => {
  await fresh.stop();
  await db.model.updateMany({ where: { id: sourceModel }, data: { status: "disabled" } });
  // Out of rotation: other files count one answer per active question.
  await db.question.updateMany({ where: { category: { slug: tag } }, data: { active: false } });
});

describe("answers moving between arenas", () => {
  it("imports an answer set with its questions here and exports it", async () => {
    const rows = sourceRows();
    const report = await importInto(admin, sourceModel, "jsonl", rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
    expect(report).toMatchObject({ rows: QUESTIONS, newQuestions: QUESTIONS, errorCount: 0, written: QUESTIONS - MULTI.size + MULTI.size * 3 });
    exported.jsonl = await exportOf(admin, sourceModel, "jsonl");
    exported.csv = await exportOf(admin, sourceModel, "csv");
    // The export lists the questions in the file's order, with Leitai's field order.
    expect(exported.jsonl.toString("utf8").trimEnd().split("\n").map((l) => JSON.parse(l).question_id)).toEqual(rows.map((r) => r.question_id));
  });

  it.each(["jsonl", "csv"] as const)("into a fresh arena with none of the questions, the same bytes come back out (%s)", async (format) => {
    const client = fresh.client!;
    if (format === "jsonl") {
      // The category is created by hand, as an admin would before importing; the bank is empty of it.
      const category = await client.json("/api/admin/categories", post({ slug: tag, nameZh: `别处 ${tag}`, nameEn: `Elsewhere ${tag}`, sortOrder: 970 }));
      expect(category.status, JSON.stringify(category.body)).toBe(201);
    }
    const model = await createOffline(client, uniq(`copy-${format}`));
    const report = await importInto(client, model, format, new Uint8Array(exported[format]).buffer);
    // The JSONL import brings the questions; the CSV one, after it, finds them by question_id.
    expect(report).toMatchObject(format === "jsonl" ? { newQuestions: QUESTIONS, matched: 0 } : { newQuestions: 0, matched: QUESTIONS });
    expect((await exportOf(client, model, format)).equals(exported[format])).toBe(true);
  });
});

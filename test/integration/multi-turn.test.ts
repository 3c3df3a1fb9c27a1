import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import { queueNextTurn, reconcileNextTurns } from "@/lib/pipeline/next-turn";
import { getPregenProgress, startPregen } from "@/lib/pipeline/pregen";
import type { GenerationWorkers } from "@/workers/pool";
import { uniq } from "./support/arena";
import { FakeEngine } from "./support/fake-engine";
import { Client } from "./support/http";
import { adminClient } from "./support/users";
import { createModel, releasePipeline, startWorkers, waitFor } from "./pipeline/helpers";

// Multi-turn bank questions (issue 26, point 2): question import and export with turns (JSONL
// and CSV) byte for byte, pre-generation turn by turn with each model's own earlier answers,
// a completion processed twice making one next turn, bank battles showing every turn of both
// sides before the vote, and offline answers to multi-turn questions.

const tag = uniq("multi");
const post = (body: unknown): RequestInit => ({ method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
type Report = { written: number; errorCount: number; errors: { line: number; field: string; message: string }[]; toWrite: number };

let admin: Client;
let category: { id: string; slug: string };
let engine: FakeEngine;
let workers: GenerationWorkers | undefined;
const models: { id: string; slug: string }[] = [];

const jsonlRows = () => [
  { id: `${tag}-j1`, text: `First turn of ${tag} J1: name a prime.`, turns: [`First turn of ${tag} J1: name a prime.`, "And the next one?", "Their sum?"], category: "", language: "en", tags: [], active: true },
  { id: `${tag}-j2`, text: `Single turn of ${tag} J2: name a colour.`, category: "", language: "en", tags: [], active: true },
];
const csvRows = () => [
  [`${tag}-c1`, `First turn of ${tag} C1: "hello", world`, "", "en", "", "true", JSON.stringify([`First turn of ${tag} C1: "hello", world`, "Say it again,\nlouder."])],
];
const csvCell = (v: string) => (/[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

async function importQuestions(body: string, format: "jsonl" | "csv") {
  return admin.json<{ report: Report }>(`/api/admin/questions/import?format=${format}&dryRun=0`, { method: "POST", body });
}

beforeAll(async () => {
  admin = await adminClient();
  category = await db.category.create({ data: { slug: tag, nameZh: `多轮 ${tag}`, nameEn: `Multi ${tag}`, sortOrder: 960 } });
  engine = await new FakeEngine().start();
});

afterAll(async () => {
  await workers?.close(1000);
  await engine.stop();
  await db.model.updateMany({ where: { id: { in: models.map((m) => m.id) } }, data: { status: "disabled" } });
  // Out of rotation: other files count one answer per active question.
  if (category) await db.question.updateMany({ where: { categoryId: category.id }, data: { active: false } });
  // The pipeline's models go with their generations: this file's battles on them go first.
  const battles = { OR: [{ modelAId: { in: models.map((m) => m.id) } }, { modelBId: { in: models.map((m) => m.id) } }] };
  const ids = (await db.battle.findMany({ where: battles, select: { id: true } })).map((b) => b.id);
  await db.vote.deleteMany({ where: { battleId: { in: ids } } });
  await db.battleGeneration.deleteMany({ where: { battleId: { in: ids } } });
  await db.battle.deleteMany({ where: { id: { in: ids } } });
  await releasePipeline();
});

describe("multi-turn bank questions", () => {
  it("imports questions with turns from JSONL and CSV and exports them back byte for byte", async () => {
    const jsonl = jsonlRows().map((r) => JSON.stringify({ ...r, category: category.slug })).join("\n") + "\n";
    const j = await importQuestions(jsonl, "jsonl");
    expect(j.status, JSON.stringify(j.body)).toBe(201);
    expect(j.body.report.written).toBe(2);
    const header = "id,text,category,language,tags,active,turns\n";
    const csv = header + csvRows().map((r) => r.map((v, i) => csvCell(i === 2 ? category.slug : v)).join(",") + "\r\n").join("");
    const c = await importQuestions(csv, "csv");
    expect(c.status, JSON.stringify(c.body)).toBe(201);
    expect(c.body.report.written).toBe(1);

    const q1 = await db.question.findUniqueOrThrow({ where: { externalId: `${tag}-j1` } });
    expect(q1.text).toBe(`First turn of ${tag} J1: name a prime.`);
    expect(q1.turns).toEqual([q1.text, "And the next one?", "Their sum?"]);
    expect((await db.question.findUniqueOrThrow({ where: { externalId: `${tag}-j2` } })).turns).toBeNull();
    expect((await db.question.findUniqueOrThrow({ where: { externalId: `${tag}-c1` } })).turns).toEqual([`First turn of ${tag} C1: "hello", world`, "Say it again,\nlouder."]);

    const exportedJsonl = await (await admin.fetch("/api/admin/questions/export?format=jsonl")).text();
    const mine = exportedJsonl.split("\n").filter((l) => l.includes(`"${tag}-j`)).join("\n") + "\n";
    expect(mine).toBe(jsonl);
    const exportedCsv = await (await admin.fetch("/api/admin/questions/export?format=csv")).text();
    expect(exportedCsv.startsWith(header.replace("\n", "\r\n"))).toBe(true);
    const csvLine = exportedCsv.split("\r\n").find((l) => l.startsWith(`${tag}-c1,`));
    expect(csvLine + "\r\n").toBe(csv.slice(header.length));

    // text must equal the first turn; turns must be strings.
    const bad = await admin.json<{ report: Report }>("/api/admin/questions/import?format=jsonl&dryRun=1", {
      method: "POST",
      body: [
        JSON.stringify({ text: "Another", turns: ["One", "Two"], category: category.slug, language: "en" }),
        JSON.stringify({ turns: [1, 2], category: category.slug, language: "en" }),
      ].join("\n"),
    });
    expect(bad.body.report.errors.map((e) => [e.line, e.field])).toEqual([[1, "text"], [2, "turns"], [2, "text"]]);
  });

  it("pre-generates every turn in order with the model's own earlier answers, once per completion", async () => {
    const q = await db.question.findUniqueOrThrow({ where: { externalId: `${tag}-j1` } });
    const userTurns = q.turns as string[];
    for (const n of [3, 5]) {
      const m = await createModel({ kind: "openai", engine: { baseUrl: engine.baseUrl, remoteModel: `tokens:${n}:0` }, generationDefaults: { maxTokens: 32 } });
      await db.model.update({ where: { id: m.id }, data: { status: "active", battleWeight: 1 } });
      models.push(m);
    }
    workers = await startWorkers(models.map((m) => ({ ...m })) as never, { pregen: true });
    const ids = (await db.question.findMany({ where: { categoryId: category.id }, select: { id: true } })).map((x) => x.id);
    for (const [i, m] of models.entries()) {
      const run = await startPregen({ modelId: m.id, scope: "ids", questionIds: ids });
      const progress = await waitFor(async () => {
        const p = await getPregenProgress(run.id);
        return p.status !== "running" ? p : null;
      }, 30_000, "the run to settle");
      // 3 + 1 + 2 turns: every turn counts.
      expect(progress).toMatchObject({ status: "completed", total: 6, done: 6, failed: 0 });
      const chain = await db.generation.findMany({ where: { pregenRunId: run.id, questionId: q.id }, orderBy: { turn: "asc" } });
      expect(chain.map((g) => g.turn)).toEqual([0, 1, 2]);
      const answer = FakeEngine.text(i === 0 ? 3 : 5);
      expect(chain.map((g) => g.parentId)).toEqual([null, chain[0]!.id, chain[1]!.id]);
      expect(chain[2]!.messages).toEqual([
        { role: "user", content: userTurns[0] }, { role: "assistant", content: answer },
        { role: "user", content: userTurns[1] }, { role: "assistant", content: answer },
        { role: "user", content: userTurns[2] },
      ]);
      // The engine was asked each turn with this model's own earlier answers.
      const asked = engine.requests.filter((r) => r.model === `tokens:${i === 0 ? 3 : 5}:0`).map((r) => r.body.messages as { content: string }[]);
      expect(asked.some((msgs) => msgs.length === 5 && msgs[1]!.content === answer && msgs[4]!.content === "Their sum?")).toBe(true);
      expect(asked.some((msgs) => msgs.length === 3 && msgs[2]!.content === "And the next one?")).toBe(true);
    }
    // A completion processed again makes no second next turn.
    const first = await db.generation.findFirstOrThrow({ where: { modelId: models[0]!.id, questionId: q.id, turn: 0 } });
    expect(await queueNextTurn(first.id)).toBe(false);
    expect(await queueNextTurn(first.id)).toBe(false);
    expect(await db.generation.count({ where: { parentId: first.id } })).toBe(1);
    // And a lost next turn: the worker's second step never happened, so processing the completion creates it once.
    const last = await db.generation.findFirstOrThrow({ where: { modelId: models[0]!.id, questionId: q.id, turn: 2 } });
    await db.generation.delete({ where: { id: last.id } });
    const [a, b] = await Promise.all([queueNextTurn(last.parentId!), queueNextTurn(last.parentId!)]);
    expect([a, b].filter(Boolean)).toHaveLength(1);
    expect(await db.generation.count({ where: { parentId: last.parentId! } })).toBe(1);
    const lastDone = () => waitFor(async () => (await db.generation.findFirst({ where: { parentId: last.parentId!, status: "completed" } })) ?? null, 15_000, "the new last turn");
    await lastDone();
    // A worker that died between the two steps: the reconciler creates the missing next turn (once).
    await db.generation.deleteMany({ where: { parentId: last.parentId! } });
    expect(await reconcileNextTurns(new Date(Date.now() + 60_000))).toBe(1);
    expect(await reconcileNextTurns(new Date(Date.now() + 60_000))).toBe(0);
    await lastDone();
    await workers.close(1000);
    workers = undefined;
  });

  it("a bank battle on a multi-turn question shows every turn of both sides before the vote, and the vote is rated", async () => {
    await db.model.updateMany({ where: { status: "active", id: { notIn: models.map((m) => m.id) } }, data: { status: "disabled" } });
    const q = await db.question.findUniqueOrThrow({ where: { externalId: `${tag}-j1` } });
    // Only the multi-turn question stays drawable in this category.
    await db.question.updateMany({ where: { categoryId: category.id, id: { not: q.id } }, data: { active: false } });
    const voter = new Client();
    const created = await voter.json<{ id: string }>("/api/battles", post({ mode: "bank", categoryId: category.id }));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const view = await voter.json<{ turns: { turn: number; prompt: string; sides: Record<"A" | "B", { status: string; text: string }> }[]; complete: boolean; reveal: unknown }>(`/api/battles/${created.body.id}`);
    expect(view.status).toBe(200);
    expect(view.body.turns.map((t) => t.prompt)).toEqual(q.turns);
    expect(view.body.complete).toBe(true);
    expect(view.body.reveal).toBeNull();
    for (const t of view.body.turns) {
      expect(t.sides.A.status).toBe("completed");
      expect(t.sides.B.status).toBe("completed");
      expect(new Set([t.sides.A.text, t.sides.B.text])).toEqual(new Set([FakeEngine.text(3), FakeEngine.text(5)]));
    }
    const followUp = await voter.json(`/api/battles/${created.body.id}/turns`, post({ prompt: "one more" }));
    expect(followUp.status).toBe(400);
    const vote = await voter.json<{ reveal: unknown }>(`/api/battles/${created.body.id}/vote`, post({ winner: "A" }));
    expect(vote.status, JSON.stringify(vote.body)).toBe(200);
    const stored = await db.vote.findUniqueOrThrow({ where: { battleId: created.body.id } });
    expect(stored.valid).toBe(true);
    expect(await db.battleGeneration.count({ where: { battleId: created.body.id } })).toBe(6);

    // Browsing after the vote: the voter's own battle card holds the whole conversation.
    const turns = q.turns as string[];
    const own = await (await voter.fetch(`/questions/${q.id}`)).text();
    expect(own).toContain('data-testid="answers-hidden"');
    expect(own.match(/data-testid="battle-card-turn"/g)).toHaveLength(3);
    for (const t of turns) expect(own).toContain(t);
    // Out of rotation, every model's answer is published turn by turn.
    await db.question.update({ where: { id: q.id }, data: { active: false } });
    try {
      const published = await (await new Client().fetch(`/questions/${q.id}`)).text();
      expect(published).toContain('data-testid="question-turns"');
      const answers = published.split('data-testid="question-answer"').slice(1).map((a) => a.split("</article>")[0]!);
      expect(answers.length).toBeGreaterThanOrEqual(2);
      for (const a of answers) expect(a.match(/第 \d 轮/g)).toEqual(["第 1 轮", "第 2 轮", "第 3 轮"]);
    } finally {
      await db.question.update({ where: { id: q.id }, data: { active: true } });
    }
  });

  it("imports offline answers to a multi-turn question as a chain, battles on them, and exports them back byte for byte", async () => {
    const q = await db.question.findUniqueOrThrow({ where: { externalId: `${tag}-j1` } });
    const userTurns = q.turns as string[];
    const created = await admin.json<{ model: { id: string; slug: string } }>("/api/admin/models", post({ kind: "offline", slug: uniq("off-multi"), displayName: "Offline multi", organisation: "Offline org" }));
    expect(created.status).toBe(201);
    const offline = created.body.model;
    models.push(offline);
    const c1 = await db.question.findUniqueOrThrow({ where: { externalId: `${tag}-c1` } });
    const rows = [
      { question_id: `${tag}-j1`, question: userTurns[0], category: category.slug, turns: userTurns, answers: ["Two.", "Three.", "Five, \"so\"\nfive."] },
      { question_id: `${tag}-c1`, question: c1.text, category: category.slug, turns: c1.turns, answers: ["Hello, world.", "HELLO, WORLD."] },
    ];
    const body = rows.map((r) => JSON.stringify(r) + "\n").join("");
    // Wrong number of answers: refused with the count.
    const short = await admin.json<{ report: Report }>(`/api/admin/models/${offline.id}/answers?format=jsonl&dryRun=1`, { method: "POST", body: JSON.stringify({ question_id: `${tag}-j1`, answers: ["x", "y"] }) });
    expect(short.body.report.errors[0]).toMatchObject({ field: "answers" });
    const res = await admin.json<{ report: Report }>(`/api/admin/models/${offline.id}/answers?format=jsonl`, { method: "POST", body });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.report.written).toBe(5);
    const chain = await db.generation.findMany({ where: { modelId: offline.id, questionId: q.id }, orderBy: { turn: "asc" } });
    expect(chain.map((g) => [g.turn, g.text, g.status])).toEqual([[0, "Two.", "completed"], [1, "Three.", "completed"], [2, "Five, \"so\"\nfive.", "completed"]]);
    expect(chain[1]!.parentId).toBe(chain[0]!.id);
    expect(chain[2]!.messages).toEqual([
      { role: "user", content: userTurns[0] }, { role: "assistant", content: "Two." },
      { role: "user", content: userTurns[1] }, { role: "assistant", content: "Three." }, { role: "user", content: userTurns[2] },
    ]);
    expect(await (await admin.fetch(`/api/admin/models/${offline.id}/answers?format=jsonl`)).text()).toBe(body);
    const csv = await (await admin.fetch(`/api/admin/models/${offline.id}/answers?format=csv`)).text();
    const again = await admin.json<{ report: Report }>(`/api/admin/models/${offline.id}/answers?format=csv`, { method: "POST", body: csv });
    expect(again.status, JSON.stringify(again.body)).toBe(201);
    expect(await (await admin.fetch(`/api/admin/models/${offline.id}/answers?format=csv`)).text()).toBe(csv);

    // A battle of the offline model against a pre-generated one, all turns linked: on the other
    // multi-turn question (this address has voted on the first one).
    await db.model.update({ where: { id: models[1]!.id }, data: { status: "disabled" } });
    await db.question.update({ where: { id: q.id }, data: { active: false } });
    await db.question.update({ where: { id: c1.id }, data: { active: true } });
    const voter = new Client();
    const battle = await voter.json<{ id: string }>("/api/battles", post({ mode: "bank", categoryId: category.id }));
    expect(battle.status, JSON.stringify(battle.body)).toBe(201);
    const view = await voter.json<{ turns: { prompt: string; sides: Record<"A" | "B", { text: string }> }[]; complete: boolean }>(`/api/battles/${battle.body.id}`);
    expect(view.body.turns.map((t) => t.prompt)).toEqual(c1.turns);
    expect(view.body.turns.flatMap((t) => [t.sides.A.text, t.sides.B.text]).sort()).toEqual([FakeEngine.text(3), FakeEngine.text(3), "HELLO, WORLD.", "Hello, world."].sort());
    expect(view.body.complete).toBe(true);
  });
});

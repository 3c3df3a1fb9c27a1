import { randomBytes } from "node:crypto";
import type { Model } from "@prisma/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { computeAndStoreRatingRun } from "@/lib/arena/ratings-job";
import { db } from "@/lib/db";
import { exportVerdicts } from "@/lib/admin/judge";
import { generationQueue } from "@/lib/pipeline/queues";
import { cancelJudgeRun, getJudgeProgress, retryJudgeRun, startJudgeRun, type JudgeRunReport } from "@/lib/judge/runs";
import type { GenerationWorkers } from "@/workers/pool";
import { speak } from "./support/arena-settings";
import { Client } from "./support/http";
import { adminClient, voterClient } from "./support/users";
import { createModel, releasePipeline, startWorkers, waitFor } from "./pipeline/helpers";
import { FakeEngine } from "./support/fake-engine";

// AI-judge runs with real workers and a fake judge engine: fan-out over the test's own bank
// (one multi-turn question), verdicts, summary, agreement with planted human votes, export,
// cancel, retry — and the human leaderboard untouched. (A run with a real SmolLM2 judge is left
// to a machine that has one.)

const tag = randomBytes(4).toString("hex");
let engine: FakeEngine;
let workers: GenerationWorkers | undefined;
let x: Model;
let y: Model;
let categoryId: string;
const questionIds: string[] = [];
const runIds: string[] = [];

async function answer(modelId: string, questionId: string, texts: string[]) {
  let parentId: string | null = null;
  for (let turn = 0; turn < texts.length; turn++) {
    const g: { id: string } = await db.generation.create({
      data: { modelId, questionId, purpose: "pregen", messages: [], status: "completed", text: texts[turn]!, turn, parentId, finishedAt: new Date() },
    });
    parentId = g.id;
  }
}

const settled = (runId: string) =>
  waitFor(async () => {
    const p = await getJudgeProgress(runId);
    return p.status !== "running" ? p : null;
  }, 30_000, `judge run ${runId} to settle`);

beforeAll(async () => {
  engine = await new FakeEngine().start();
  const category = await db.category.create({ data: { slug: `judge-${tag}`, nameZh: "评审", nameEn: "Judge", sortOrder: 970 } });
  categoryId = category.id;
  x = await createModel({ kind: "openai", engine: { baseUrl: engine.baseUrl, remoteModel: "tokens:2:0" }, slug: `judge-x-${tag}` });
  y = await createModel({ kind: "openai", engine: { baseUrl: engine.baseUrl, remoteModel: "tokens:2:0" }, slug: `judge-y-${tag}` });
  for (let i = 0; i < 3; i++) {
    const multi = i === 2;
    const q = await db.question.create({
      data: { text: `judge ${tag} q${i}`, textHash: `judge-${tag}-${i}`, categoryId, ...(multi ? { turns: [`judge ${tag} q${i}`, "and then?"] } : {}) },
    });
    questionIds.push(q.id);
    await answer(x.id, q.id, multi ? ["x1", "x2"] : [`x answer ${i}`]);
    await answer(y.id, q.id, multi ? ["y1", "y2"] : [`y answer ${i}`]);
  }
  // Humans: x beat y on q0 twice; a tie on q1. (Not rated, so the human leaderboard is the same with or without them.)
  const votes = [[0, "A"], [0, "A"], [1, "tie"]] as const;
  for (const [v, [q, winner]] of votes.entries()) {
    const battle = await db.battle.create({ data: { mode: "bank", questionId: questionIds[q]!, categoryId, modelAId: x.id, modelBId: y.id, voterKey: `k${v}-${tag}`, ipHash: "h", status: "voted" } });
    await db.vote.create({ data: { battleId: battle.id, winner, voterKey: `k${v}-${tag}`, ipHash: "h", modelAId: x.id, modelBId: y.id, categoryId, rated: false } });
  }
});

afterAll(async () => {
  // Out of the bank first, whatever fails below (other files count the active questions).
  await db.question.updateMany({ where: { id: { in: questionIds } }, data: { active: false } });
  await workers?.close(1000);
  await engine.stop();
  await db.judgeRun.deleteMany({ where: { id: { in: runIds } } });
  await db.battle.deleteMany({ where: { questionId: { in: questionIds } } });
  await releasePipeline();
  await db.question.deleteMany({ where: { id: { in: questionIds } } });
  await db.category.deleteMany({ where: { id: categoryId } });
});

async function judgeRun(remoteModel: string, template: "pairwise" | "score10" = "pairwise") {
  const judge = await createModel({ kind: "openai", engine: { baseUrl: engine.baseUrl, remoteModel } });
  await workers?.close(1000);
  workers = await startWorkers([judge], { pregen: true });
  const { run, warnings } = await startJudgeRun({ judgeModelId: judge.id, contestantIds: [x.id, y.id], categoryIds: [categoryId], template, lang: "en" });
  runIds.push(run.id);
  expect(warnings).toEqual([]);
  return { run, judge };
}

describe("AI-judge runs", () => {
  it("judges every pair in both orders, stores verdicts and the summary, and leaves the human leaderboard alone", async () => {
    const before = await computeAndStoreRatingRun({ bootstrapRounds: 10 });
    const { run } = await judgeRun("judge:A");
    expect(await settled(run.id)).toMatchObject({ status: "completed", total: 6, done: 6, failed: 0, unparseable: 0 });
    const judgements = await db.judgement.findMany({ where: { runId: run.id }, include: { generation: true } });
    expect(judgements).toHaveLength(6);
    for (const q of questionIds) expect(judgements.filter((j) => j.questionId === q).map((j) => j.order).sort()).toEqual(["XY", "YX"]);
    for (const j of judgements) {
      expect(j).toMatchObject({ verdict: "A", error: null, modelXId: x.id, modelYId: y.id });
      expect(j.generation).toMatchObject({ purpose: "judge", questionId: null, status: "completed" });
    }
    const multi = judgements.find((j) => j.questionId === questionIds[2] && j.order === "XY")!;
    expect(JSON.stringify(multi.generation.messages)).toContain("x2");
    const summary = (await db.judgeRun.findUniqueOrThrow({ where: { id: run.id } })).summary as unknown as JudgeRunReport;
    expect(summary.positionBiasOverall).toMatchObject({ comparable: 3, biased: 3, rate: 1 });
    expect(summary.unparseable).toEqual({ count: 0, total: 6, rate: 0 });
    expect(summary.leaderboard.map((r) => r.modelId).sort()).toEqual([x.id, y.id].sort());
    // Always-A: every question comes out a tie overall: it disagrees with the humans' x win on
    // q0 and agrees with their tie on q1; without ties nothing is left to compare.
    expect(summary.agreement?.withTies).toEqual({ compared: 2, agreed: 1, rate: 0.5 });
    expect(summary.agreement?.withoutTies).toEqual({ compared: 0, agreed: 0, rate: null });

    const lines = (await exportVerdicts({ id: run.id })).trim().split("\n").map((l) => JSON.parse(l));
    expect(lines).toHaveLength(6);
    expect(lines[0]).toMatchObject({ category: `judge-${tag}`, verdict: "A", modelX: x.slug, modelY: y.slug });

    const after = await computeAndStoreRatingRun({ bootstrapRounds: 10 });
    const board = (r: typeof before) => (r.results as { leaderboard: { models: unknown } } | null)?.leaderboard.models;
    expect(board(after)).toEqual(board(before));
  });

  it("sums a 10-point judge's scores per category and pair, as the original evaluation did", async () => {
    const { run } = await judgeRun("judge:score", "score10");
    expect(await settled(run.id)).toMatchObject({ status: "completed", total: 6, done: 6, unparseable: 0 });
    const summary = (await db.judgeRun.findUniqueOrThrow({ where: { id: run.id } })).summary as unknown as JudgeRunReport;
    // A always gets 7 and B 5; each model is A once and B once per question: 12 a question, 36 in all.
    expect(summary.pairedScores).toHaveLength(1);
    expect(summary.pairedScores[0]).toMatchObject({ totals: [36, 36], judgements: 6 });
    expect(summary.positionBiasOverall).toMatchObject({ comparable: 3, biased: 3, rate: 1 });
    const judgements = await db.judgement.findMany({ where: { runId: run.id } });
    expect(judgements.every((j) => j.verdict === "A" && JSON.stringify(j.scores) === "[7,5]")).toBe(true);
    // The run page shows the paired scores table.
    const page = await (await speak(await adminClient(), "en").fetch(`/admin/judge/${run.id}`)).text();
    expect(page).toContain("Paired scores");
    expect(page).toMatch(/36(<!-- -->)? : (<!-- -->)?36/);
  });

  it("counts unparseable output", async () => {
    const { run } = await judgeRun("judge:garbage");
    expect(await settled(run.id)).toMatchObject({ status: "completed", total: 6, done: 6, unparseable: 6 });
    const summary = (await db.judgeRun.findUniqueOrThrow({ where: { id: run.id } })).summary as unknown as JudgeRunReport;
    expect(summary.unparseable).toEqual({ count: 6, total: 6, rate: 1 });
  });

  it("cancels a slow run leaving nothing queued, and retries failed judgements", async () => {
    const { run, judge } = await judgeRun("tokens:400:20");
    await waitFor(async () => (await getJudgeProgress(run.id)).total === 6, 10_000, "fan-out");
    await cancelJudgeRun(run.id);
    const progress = await waitFor(async () => {
      const p = await getJudgeProgress(run.id);
      return p.queued + p.running === 0 ? p : null;
    }, 10_000, "nothing open");
    expect(progress).toMatchObject({ status: "cancelled", cancelled: 6 });
    const queue = generationQueue(judge.id, "pregen");
    await waitFor(async () => Object.values(await queue.getJobCounts("waiting", "prioritized", "delayed", "active")).every((n) => n === 0), 10_000, "no judge job left");

    const failing = await judgeRun("reject");
    expect(await settled(failing.run.id)).toMatchObject({ status: "completed", failed: 6 });
    await db.model.update({ where: { id: failing.judge.id }, data: { engine: { baseUrl: engine.baseUrl, remoteModel: "judge:A" } } });
    await workers?.close(1000);
    workers = await startWorkers([failing.judge], { pregen: true });
    expect(await retryJudgeRun(failing.run.id)).toBe(6);
    expect(await settled(failing.run.id)).toMatchObject({ status: "completed", done: 6, failed: 0 });
  });
});

describe("AI-judge runs over the admin API", () => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are checked field by field
  type Body = Record<string, any>;
  let admin: Client;
  const post = (client: Client, path: string, body: unknown) =>
    client.json<Body>(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

  beforeAll(async () => {
    admin = speak(await adminClient(), "en");
  });

  it("is for admins only", async () => {
    const voter = await voterClient();
    const anonymous = new Client();
    for (const client of [anonymous, voter]) {
      const expected = client === anonymous ? 401 : 403;
      expect((await client.json("/api/admin/judge-runs")).status).toBe(expected);
      expect((await post(client, "/api/admin/judge-runs", {})).status).toBe(expected);
      expect((await client.json("/api/admin/judge-runs/x/verdicts?format=jsonl")).status).toBe(expected);
      expect((await post(client, "/api/admin/judge-runs/x/cancel", {})).status).toBe(expected);
      expect((await post(client, "/api/admin/judge-runs/x/retry", {})).status).toBe(expected);
    }
  });

  it("validates, starts, reports, exports and audits a run", async () => {
    const judge = await createModel({ kind: "openai", engine: { baseUrl: engine.baseUrl, remoteModel: "judge:A" } });
    const bad = await post(admin, "/api/admin/judge-runs", { judgeModelId: judge.id, contestantIds: [x.id, y.id], template: "custom", customTemplate: "Judge {question} and {answer_a}" });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ field: "customTemplate" });
    expect(bad.body.error.message).toContain("{answer_b}");
    expect((await post(admin, "/api/admin/judge-runs", { judgeModelId: judge.id, contestantIds: [x.id], template: "pairwise" })).status).toBe(400);

    // The judge may be a contestant: allowed, with a warning.
    const self = await post(admin, "/api/admin/judge-runs", { judgeModelId: x.id, contestantIds: [x.id, y.id], categoryIds: [categoryId], template: "pairwise" });
    expect(self.status).toBe(201);
    expect(self.body.warnings).toHaveLength(1);
    runIds.push(self.body.runId);
    expect((await post(admin, `/api/admin/judge-runs/${self.body.runId}/cancel`, {})).status).toBe(200);

    const started = await post(admin, "/api/admin/judge-runs", {
      judgeModelId: judge.id, contestantIds: [x.id, y.id], categoryIds: [categoryId], template: "custom", outputKind: "pairwise", lang: "en",
      customTemplate: "Q: {question}\nA: {answer_a}\nB: {answer_b}",
    });
    expect(started.status).toBe(201);
    const runId = started.body.runId as string;
    runIds.push(runId);
    await workers?.close(1000);
    workers = await startWorkers([judge], { pregen: true });
    const view = await waitFor(async () => {
      const res = await admin.json<Body>(`/api/admin/judge-runs/${runId}`);
      return res.body.run?.progress.status === "completed" ? res.body.run : null;
    }, 30_000, "the run to complete");
    expect(view.progress).toMatchObject({ total: 6, done: 6, unparseable: 0 });
    expect(view.summary.positionBiasOverall.rate).toBe(1);
    expect(view.summary.leaderboard).toHaveLength(2);
    for (const row of view.summary.leaderboard) expect(row).toEqual(expect.objectContaining({ rating: expect.any(Number), rank: expect.any(Number) }));
    const page = await admin.fetch(`/admin/judge/${runId}`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("Judge leaderboard");
    expect(html).toContain(`/api/admin/judge-runs/${runId}/verdicts?format=jsonl`);
    const list = await admin.json<Body>("/api/admin/judge-runs");
    expect(list.body.runs.map((r: Body) => r.id)).toEqual(expect.arrayContaining([runId]));

    const res = await admin.fetch(`/api/admin/judge-runs/${runId}/verdicts?format=jsonl`);
    expect(res.status).toBe(200);
    const lines = (await res.text()).trim().split("\n").map((l) => JSON.parse(l));
    expect(lines).toHaveLength(6);
    expect(lines[0]).toMatchObject({ questionId: expect.any(String), category: `judge-${tag}`, verdict: "A", reason: expect.any(String) });

    const actions = await db.auditLog.findMany({ where: { targetType: "judge_run", targetId: { in: [runId, self.body.runId] } } });
    expect(actions.map((a) => a.action).sort()).toEqual(["judge.cancel", "judge.start", "judge.start"]);
  });
});

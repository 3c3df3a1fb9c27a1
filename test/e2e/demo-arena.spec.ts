import { randomBytes } from "node:crypto";
import { expect, test } from "@playwright/test";
import { db } from "../../lib/db";
import { DEMO_MODELS, ensureDemoModels, REAL_DEMO_MODELS } from "../../lib/models/demo";
import { localEngineSchema } from "../../lib/models/engine";
import { getPregenProgress, startPregen } from "../../lib/pipeline/pregen";
import { closeQueues } from "../../lib/pipeline/queues";
import { questionTextHash } from "../../lib/questions";
import { REAL_MODEL, RUNTIME_MODELS, waitForHealthy } from "./support/arena";

// The demo arena `npm run up` registers, as a newcomer meets it: the two random-weight models
// and the real model's three contestants, all answering one bank question through the test
// worker's runtime (which serves them under its own names). Voters are only ever drawn the real
// contestants, so the first bank battle anyone sees pairs two real answers.

const run = randomBytes(3).toString("hex");
let ids: Record<string, string> = {};

test.skip(!REAL_MODEL || RUNTIME_MODELS.length < 2, "needs the test worker's gpu-runtime serving the real model and two tiny ones (npm test starts it)");

test.afterAll(async () => {
  // Later specs must not draw the demo models.
  await db.model.updateMany({ where: { id: { in: Object.values(ids) } }, data: { status: "disabled" } });
  await closeQueues();
});

test("with the demo's models, voters are drawn only real contestants", async ({ browser }) => {
  test.setTimeout(300_000);
  await db.model.updateMany({ where: { status: "active" }, data: { status: "disabled" } });
  ids = await ensureDemoModels({
    paths: Object.fromEntries(DEMO_MODELS.map((d) => [d.slug, `/served-by-runtime/${d.slug}`])),
    realModelPath: "/served-by-runtime/smollm2",
  });
  // As up registers them, but on the names this runtime serves them under, active, and short.
  const servedAs = new Map<string, string>([[DEMO_MODELS[0].slug, RUNTIME_MODELS[0]!], [DEMO_MODELS[1].slug, RUNTIME_MODELS[1]!], ...REAL_DEMO_MODELS.map((m) => [m.slug, REAL_MODEL] as [string, string])]);
  for (const [slug, id] of Object.entries(ids)) {
    const model = await db.model.findUniqueOrThrow({ where: { id } });
    await db.model.update({
      where: { id },
      data: {
        status: "active",
        engine: { ...localEngineSchema.parse(model.engine), servedName: servedAs.get(slug)! },
        generationDefaults: { ...(model.generationDefaults as object), maxTokens: 24 },
      },
    });
  }
  const random = DEMO_MODELS.map((d) => ids[d.slug]!);
  const real = REAL_DEMO_MODELS.map((m) => ids[m.slug]!);
  expect((await db.model.findMany({ where: { id: { in: random } } })).map((m) => m.battleWeight)).toEqual([0, 0]);

  // One question in a category of its own; every demo model answers it through the worker.
  const category = await db.category.create({ data: { slug: `demo-${run}`, nameZh: `演示 ${run}`, nameEn: `Demo ${run}`, sortOrder: 990 } });
  const text = `Demo ${run}: name three colours of the rainbow.`;
  const question = await db.question.create({ data: { text, textHash: questionTextHash(text), categoryId: category.id, language: "en" } });
  await waitForHealthy(Object.values(ids), 90_000);
  const runs = await Promise.all(Object.values(ids).map((modelId) => startPregen({ modelId, scope: "category", categoryId: category.id })));
  await expect.poll(async () => (await Promise.all(runs.map((r) => getPregenProgress(r.id)))).map((p) => p.status).join(","), { timeout: 240_000, intervals: [1000] })
    .toBe(runs.map(() => "completed").join(","));
  const answers = await db.generation.findMany({ where: { questionId: question.id, status: "completed" }, select: { modelId: true, text: true } });
  expect(new Set(answers.map((a) => a.modelId))).toEqual(new Set(Object.values(ids)));
  const answerOf = new Map(answers.map((a) => [a.modelId, a.text]));

  // Six newcomers, each in a browser of their own: every battle pairs two real contestants, and
  // the first shows their two answers.
  for (let i = 0; i < 6; i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto("/battle");
    await expect(page.getByTestId("vote-A")).toBeEnabled();
    const battleId = await page.getByTestId("battle").getAttribute("data-battle-id");
    const battle = await db.battle.findUniqueOrThrow({ where: { id: battleId! } });
    expect(battle.questionId).toBe(question.id);
    expect(real).toContain(battle.modelAId);
    expect(real).toContain(battle.modelBId);
    if (i === 0) {
      // What the voter's page was given is the two real answers, and both are on the screen.
      const view = await (await page.request.get(`/api/battles/${battleId}`)).json() as { turns: { sides: Record<"A" | "B", { text: string }> }[] };
      expect(view.turns[0]!.sides.A.text).toBe(answerOf.get(battle.modelAId));
      expect(view.turns[0]!.sides.B.text).toBe(answerOf.get(battle.modelBId));
      for (const side of ["A", "B"]) expect((await page.getByTestId(`side-${side}-0`).innerText()).trim().length).toBeGreaterThan(0);
    }
    await context.close();
  }
  await db.question.update({ where: { id: question.id }, data: { active: false } });
});

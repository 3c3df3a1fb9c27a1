import { recordAudit } from "../audit";
import { db } from "../db";
import { errors } from "../errors";
import type { StartJudgeRunInput } from "../schemas/judge";
import { cancelJudgeRun, getJudgeProgress, retryJudgeRun, startJudgeRun, type JudgeProgress, type JudgeRunReport, type JudgeRunWarning } from "../judge/runs";

// The admin's side of AI-judge runs: start, progress, summary, cancel, retry and the verdict
// export — each change audited. The work itself is lib/judge/runs.ts.

export { startJudgeRunSchema, type StartJudgeRunInput } from "../schemas/judge";

export type JudgeRunView = {
  id: string;
  version: number;
  judgeModelId: string;
  judge: string;
  contestants: { id: string; name: string }[];
  categoryIds: string[];
  template: string;
  outputKind: string;
  lang: string;
  createdAt: Date;
  finishedAt: Date | null;
  progress: JudgeProgress;
  summary: JudgeRunReport | null;
};

export async function startJudgeRunAudited({ input, actorId }: { input: StartJudgeRunInput; actorId: string }): Promise<{ runId: string; warnings: JudgeRunWarning[] }> {
  const { run, warnings } = await startJudgeRun({ ...input, createdBy: actorId });
  await recordAudit({
    actorId, action: "judge.start", targetType: "judge_run", targetId: run.id,
    after: { judgeModelId: run.judgeModelId, contestantIds: run.contestantIds, categoryIds: run.categoryIds, template: run.template, outputKind: run.outputKind, lang: run.lang },
  });
  return { runId: run.id, warnings };
}

export async function listJudgeRuns({ limit = 20, ids }: { limit?: number; ids?: string[] } = {}): Promise<JudgeRunView[]> {
  const runs = await db.judgeRun.findMany({
    where: ids ? { id: { in: ids } } : undefined,
    orderBy: { createdAt: "desc" },
    take: limit,
    include: { judgeModel: { select: { displayName: true } } },
  });
  const names = new Map((await db.model.findMany({ where: { id: { in: runs.flatMap((r) => r.contestantIds) } }, select: { id: true, displayName: true } })).map((m) => [m.id, m.displayName]));
  return Promise.all(runs.map(async (r) => {
    const progress = await getJudgeProgress(r.id);
    // Settling may have stored the summary just now.
    const summary = progress.status === "completed" && !r.summary ? (await db.judgeRun.findUniqueOrThrow({ where: { id: r.id }, select: { summary: true } })).summary : r.summary;
    return {
      id: r.id,
      version: r.version,
      judgeModelId: r.judgeModelId,
      judge: r.judgeModel.displayName,
      contestants: r.contestantIds.map((id) => ({ id, name: names.get(id) ?? id })),
      categoryIds: r.categoryIds,
      template: r.template,
      outputKind: r.outputKind,
      lang: r.lang,
      createdAt: r.createdAt,
      finishedAt: r.finishedAt,
      progress,
      summary: (summary as JudgeRunReport | null) ?? null,
    };
  }));
}

export async function getJudgeRunView({ id }: { id: string }): Promise<JudgeRunView> {
  const [run] = await listJudgeRuns({ ids: [id], limit: 1 });
  if (!run) throw errors.notFound("judge_run");
  return run;
}

export async function cancelJudgeRunAudited({ id, actorId }: { id: string; actorId: string }): Promise<void> {
  await cancelJudgeRun(id);
  await recordAudit({ actorId, action: "judge.cancel", targetType: "judge_run", targetId: id });
}

export async function retryJudgeRunAudited({ id, actorId }: { id: string; actorId: string }): Promise<{ retried: number }> {
  const retried = await retryJudgeRun(id);
  await recordAudit({ actorId, action: "judge.retry", targetType: "judge_run", targetId: id, after: { retried } });
  return { retried };
}

export type VerdictRow = {
  questionId: string;
  category: string | null;
  modelX: string;
  modelY: string;
  /** The model shown as A, and as B. */
  modelA: string;
  modelB: string;
  order: "XY" | "YX";
  status: string;
  verdict: "A" | "B" | "tie" | null;
  scores: [number, number] | null;
  reason: string | null;
  error: string | null;
};

/** Every judgement of the run as a JSON line, in creation order. */
export async function exportVerdicts({ id }: { id: string }): Promise<string> {
  if (!(await db.judgeRun.findUnique({ where: { id }, select: { id: true } }))) throw errors.notFound("judge_run");
  const rows = await db.judgement.findMany({
    where: { runId: id },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    include: { question: { select: { category: { select: { slug: true } } } }, generation: { select: { status: true } } },
  });
  const slugs = new Map((await db.model.findMany({ where: { id: { in: [...new Set(rows.flatMap((r) => [r.modelXId, r.modelYId]))] } }, select: { id: true, slug: true } })).map((m) => [m.id, m.slug]));
  const slug = (modelId: string) => slugs.get(modelId) ?? modelId;
  return rows.map((r) => {
    const row: VerdictRow = {
      questionId: r.questionId,
      category: r.question.category?.slug ?? null,
      modelX: slug(r.modelXId),
      modelY: slug(r.modelYId),
      modelA: slug(r.order === "XY" ? r.modelXId : r.modelYId),
      modelB: slug(r.order === "XY" ? r.modelYId : r.modelXId),
      order: r.order,
      status: r.generation.status,
      verdict: r.verdict,
      scores: Array.isArray(r.scores) ? (r.scores as [number, number]) : null,
      reason: r.reason,
      error: r.error,
    };
    return JSON.stringify(row) + "\n";
  }).join("");
}

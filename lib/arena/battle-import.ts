import { randomUUID } from "node:crypto";
import type { Prisma, VoteWinner } from "@prisma/client";
import { z } from "zod";
import { db } from "../db";
import { findTextProblem } from "../input";
import { questionTextHash } from "../questions";
import { IMPORT_VOTER_PREFIX, WINNER_TO_FASTCHAT, type FastChatBattle } from "./battle-export";

export type ImportProblem = { line: number; field: string; message: string };
export type ImportReport = { ok: boolean; rows: number; newModels: string[]; problems: ImportProblem[]; written: boolean };

const LANGUAGE_CODES: Record<string, string> = { Chinese: "zh", English: "en" };
const WINNER_FROM_FASTCHAT = Object.fromEntries(Object.entries(WINNER_TO_FASTCHAT).map(([k, v]) => [v, k])) as Record<string, VoteWinner>;
const MAX_PROBLEMS = 200;

const message = z.object({ role: z.enum(["user", "assistant"]), content: z.string() });
const row = z.object({
  question_id: z.string().min(1).max(200),
  model_a: z.string().min(1).max(100),
  model_b: z.string().min(1).max(100),
  winner: z.enum(["model_a", "model_b", "tie", "tie (bothbad)"]),
  judge: z.string().max(200).default("anonymous"),
  turn: z.number().int().min(1).max(50).optional(),
  anony: z.boolean().default(true),
  language: z.string().max(50).default("unknown"),
  tstamp: z.number().positive(),
  conversation_a: z.array(message).min(2),
  conversation_b: z.array(message).min(2),
});

function turnsOf(conversation: z.infer<typeof message>[]): { prompts: string[]; answers: string[] } | null {
  const prompts: string[] = [];
  const answers: string[] = [];
  for (let i = 0; i < conversation.length; i += 2) {
    if (conversation[i]?.role !== "user" || conversation[i + 1]?.role !== "assistant") return null;
    prompts.push(conversation[i]!.content);
    answers.push(conversation[i + 1]!.content);
  }
  return { prompts, answers };
}

const slugLike = (s: string) => s.toLowerCase().replace(/[^a-z0-9.-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 100) || "model";

/**
 * Imports FastChat battle rows (JSONL) all or nothing: every line is validated first, and
 * only a file without a single problem is written, in one transaction.
 */
export async function importBattles({ text, dryRun }: { text: string; dryRun: boolean }): Promise<ImportReport> {
  const problems: ImportProblem[] = [];
  const parsed: { line: number; row: FastChatBattle; prompts: string[]; a: string[]; b: string[] }[] = [];
  const seenIds = new Set<string>();
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (!raw.trim() || problems.length >= MAX_PROBLEMS) return;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      problems.push({ line, field: "(line)", message: "not valid JSON" });
      return;
    }
    const unstorable = findTextProblem(json, { root: "(row)" }); // PostgreSQL text cannot hold NUL
    if (unstorable) return void problems.push({ line, field: unstorable.field, message: unstorable.message });
    const result = row.safeParse(json);
    if (!result.success) {
      for (const issue of result.error.issues.slice(0, 3)) problems.push({ line, field: issue.path.join(".") || "(row)", message: issue.message });
      return;
    }
    const r = result.data;
    const ca = turnsOf(r.conversation_a);
    const cb = turnsOf(r.conversation_b);
    if (!ca || !cb) return void problems.push({ line, field: "conversation_a", message: "turns must alternate user, assistant" });
    if (ca.prompts.join("\u0000") !== cb.prompts.join("\u0000")) {
      return void problems.push({ line, field: "conversation_b", message: "both conversations must ask the same questions" });
    }
    if (r.model_a === r.model_b) return void problems.push({ line, field: "model_b", message: "model_a and model_b must differ" });
    if (seenIds.has(r.question_id)) return void problems.push({ line, field: "question_id", message: "appears twice in the file" });
    seenIds.add(r.question_id);
    parsed.push({ line, row: { ...r, turn: ca.prompts.length } as FastChatBattle, prompts: ca.prompts, a: ca.answers, b: cb.answers });
  });

  const existing = await db.battle.findMany({ where: { id: { in: [...seenIds] } }, select: { id: true } });
  for (const e of existing) {
    const p = parsed.find((x) => x.row.question_id === e.id)!;
    problems.push({ line: p.line, field: "question_id", message: "a battle with this id already exists (imported before?)" });
  }
  const names = [...new Set(parsed.flatMap((p) => [p.row.model_a, p.row.model_b]))];
  const known = await db.model.findMany({ where: { slug: { in: names.map(slugLike) } }, select: { id: true, slug: true } });
  const idBySlug = new Map(known.map((m) => [m.slug, m.id]));
  const newModels = names.filter((n) => !idBySlug.has(slugLike(n)));
  problems.sort((x, y) => x.line - y.line);
  const report: ImportReport = { ok: problems.length === 0, rows: parsed.length, newModels, problems, written: false };
  if (!report.ok || dryRun) return report;

  const battles: Prisma.BattleCreateManyInput[] = [];
  const generations: Prisma.GenerationCreateManyInput[] = [];
  const links: Prisma.BattleGenerationCreateManyInput[] = [];
  const votes: Prisma.VoteCreateManyInput[] = [];
  await db.$transaction(async (tx) => {
    for (const name of newModels) {
      // Imported-only models keep their ratings visible but take no new battles.
      const m = await tx.model.create({
        data: { slug: slugLike(name), displayName: name, kind: "openai", status: "retired", description: "Imported from a battle file.", engine: { baseUrl: "https://imported.invalid/v1", remoteModel: name } },
      });
      idBySlug.set(m.slug, m.id);
    }
    for (const { row: r, prompts, a, b } of parsed) {
      const at = new Date(Math.round(r.tstamp * 1000));
      const modelAId = idBySlug.get(slugLike(r.model_a))!;
      const modelBId = idBySlug.get(slugLike(r.model_b))!;
      const voterKey = `${IMPORT_VOTER_PREFIX}${r.judge}`;
      battles.push({
        id: r.question_id, mode: r.anony ? "live" : "named", prompt: prompts.map((content) => ({ role: "user", content })),
        modelAId, modelBId, voterKey, ipHash: "import", status: "voted", createdAt: at,
        language: LANGUAGE_CODES[r.language] ?? r.language, source: "fastchat", promptHash: prompts[0] === undefined ? null : questionTextHash(prompts[0]),
      });
      for (const [side, answers, modelId] of [["A", a, modelAId], ["B", b, modelBId]] as const) {
        answers.forEach((text, turn) => {
          const id = randomUUID();
          const messages = prompts.slice(0, turn + 1).flatMap((content, i) => i < turn ? [{ role: "user", content }, { role: "assistant", content: answers[i] }] : [{ role: "user", content }]);
          generations.push({ id, modelId, purpose: "live", status: "completed", messages, text, createdAt: at, finishedAt: at });
          links.push({ battleId: r.question_id, side, turn, generationId: id });
        });
      }
      votes.push({
        id: randomUUID(), battleId: r.question_id, winner: WINNER_FROM_FASTCHAT[r.winner]!, voterKey, ipHash: "import",
        rated: r.anony, valid: true, modelAId, modelBId, createdAt: at,
      });
    }
    await tx.battle.createMany({ data: battles });
    await tx.generation.createMany({ data: generations });
    await tx.battleGeneration.createMany({ data: links });
    await tx.vote.createMany({ data: votes });
  }, { timeout: 120_000 });
  return { ...report, written: true };
}

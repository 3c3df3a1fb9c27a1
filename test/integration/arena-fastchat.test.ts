import { describe, expect, it } from "vitest";
import { exportBattles, type FastChatBattle } from "@/lib/arena/battle-export";
import { importBattles } from "@/lib/arena/battle-import";
import { db } from "@/lib/db";
import { uniq } from "./support/arena";

async function exported(ids: Set<string>): Promise<FastChatBattle[]> {
  const rows: FastChatBattle[] = [];
  for await (const row of exportBattles()) if (ids.has(row.question_id)) rows.push(row);
  return rows;
}

function row(i: number, tag: string, overrides: Partial<FastChatBattle> = {}): FastChatBattle {
  const q = `question ${i} ${tag}`;
  return {
    question_id: `${tag}-${i}`,
    model_a: `${tag}-alpha`,
    model_b: `${tag}-beta`,
    winner: (["model_a", "model_b", "tie", "tie (bothbad)"] as const)[i % 4]!,
    judge: `arena_user_${i % 3}`,
    turn: i % 2 === 0 ? 1 : 2,
    anony: i % 5 !== 0,
    language: i % 2 ? "Chinese" : "English",
    tstamp: 1_700_000_000 + i * 7.125,
    conversation_a: [
      { role: "user", content: q }, { role: "assistant", content: `A says ${i} **bold** 你好` },
      ...(i % 2 === 0 ? [] : [{ role: "user" as const, content: `follow-up ${i}` }, { role: "assistant" as const, content: `A again ${i}` }]),
    ],
    conversation_b: [
      { role: "user", content: q }, { role: "assistant", content: `B says ${i}` },
      ...(i % 2 === 0 ? [] : [{ role: "user" as const, content: `follow-up ${i}` }, { role: "assistant" as const, content: `B again ${i}` }]),
    ],
    ...overrides,
  };
}

describe("FastChat battle data", () => {
  it("import → export is lossless", async () => {
    const tag = uniq("fc");
    const rows = Array.from({ length: 40 }, (_, i) => row(i, tag));
    const text = rows.map((r) => JSON.stringify(r)).join("\n");
    const dry = await importBattles({ text, dryRun: true });
    expect(dry).toMatchObject({ ok: true, rows: 40, written: false });
    expect(dry.newModels.sort()).toEqual([`${tag}-alpha`, `${tag}-beta`]);
    expect(await db.battle.count({ where: { id: { startsWith: tag } } })).toBe(0);

    const real = await importBattles({ text, dryRun: false });
    expect(real.written).toBe(true);
    const back = await exported(new Set(rows.map((r) => r.question_id)));
    const byId = (a: FastChatBattle, b: FastChatBattle) => a.question_id.localeCompare(b.question_id);
    // `published` is Leitai's own field (whether the prompt is on the public pages), not FastChat's.
    expect(back.map(({ published: _published, ...r }) => r).sort(byId)).toEqual([...rows].sort(byId));
  });

  it("rejects the whole file, with line-level problems, when one row is bad", async () => {
    const tag = uniq("bad");
    const rows = Array.from({ length: 30 }, (_, i) => JSON.stringify(row(i, tag)));
    rows[11] = JSON.stringify({ ...row(11, tag), winner: "model_c" });
    rows[20] = "{not json";
    rows[25] = JSON.stringify(row(3, tag)); // duplicate question_id
    const report = await importBattles({ text: rows.join("\n"), dryRun: false });
    expect(report.ok).toBe(false);
    expect(report.written).toBe(false);
    expect(report.problems.map((p) => [p.line, p.field])).toEqual([[12, "winner"], [21, "(line)"], [26, "question_id"]]);
    expect(await db.battle.count({ where: { id: { startsWith: tag } } })).toBe(0);
    expect(await db.model.count({ where: { slug: { startsWith: tag } } })).toBe(0);
  });

  it("refuses to import the same battles twice", async () => {
    const tag = uniq("twice");
    const text = [row(1, tag), row(2, tag)].map((r) => JSON.stringify(r)).join("\n");
    expect((await importBattles({ text, dryRun: false })).written).toBe(true);
    const again = await importBattles({ text, dryRun: false });
    expect(again.ok).toBe(false);
    expect(again.problems[0]).toMatchObject({ line: 1, field: "question_id" });
  });
});

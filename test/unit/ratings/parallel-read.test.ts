import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { mergeVoteTables, readVoteFile, readVoteFileParallel, VoteFileError, type ParallelReadOptions, type VoteTable } from "@/lib/ratings";
import { syntheticVotes } from "./synthetic";

const dir = mkdtempSync(join(tmpdir(), "leitai-parallel-votes-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const workerScript = fileURLToPath(new URL("../../../lib/ratings/fast/ratings-worker.ts", import.meta.url));
// Tiny files would stay on one thread; force the split.
const parallel: ParallelReadOptions = { workerScript, threads: 2, minBytes: 0 };

/** Votes as JSONL, with rows that take the JSON.parse path, blank lines and CRLF sprinkled in. */
function voteLines(count: number): string[] {
  const votes = syntheticVotes({ votes: count, strengths: [0, 50, 100, 150, 200, 250], categories: [null, "coding", "写作"] });
  return votes.map((vote, i) => {
    if (i % 97 === 5) return JSON.stringify({ ...vote, extra: { nested: [i] } }); // not flat: JSON.parse path
    const line = JSON.stringify(vote);
    return i % 89 === 3 ? line + "\r\n" : i % 83 === 7 ? line + "\n" : line;
  });
}

function file(name: string, lines: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, lines.join("\n") + "\n");
  return path;
}

function columns(table: VoteTable) {
  return { ...table, modelA: [...table.modelA], modelB: [...table.modelB], outcome: [...table.outcome], category: [...table.category] };
}

async function parallelFailure(path: string, options = parallel): Promise<VoteFileError> {
  const error: unknown = await readVoteFileParallel(path, "leitai", {}, options).then(
    () => new Error("expected a VoteFileError"),
    (e: unknown) => e,
  );
  if (error instanceof VoteFileError) return error;
  throw error;
}

function singleFailure(path: string): VoteFileError {
  try {
    readVoteFile(path, "leitai");
  } catch (error) {
    if (error instanceof VoteFileError) return error;
    throw error;
  }
  throw new Error("expected a VoteFileError");
}

// Each read starts worker threads that load the TypeScript sources; allow for a busy machine.
describe("parallel vote file reads", { timeout: 30_000 }, () => {
  const lines = voteLines(5000);
  const good = file("good.jsonl", lines);

  it.each([2, 3])("reads the same table as one thread, ids and vote order included (%i threads)", async (threads) => {
    const table = await readVoteFileParallel(good, "leitai", {}, { ...parallel, threads });
    expect(table.length).toBe(5000);
    expect(columns(table)).toEqual(columns(readVoteFile(good, "leitai")));
  });

  it("names the exact line of a bad row in the second part", async () => {
    const bad = [...lines];
    bad[4321] = '{"modelA":"a","modelB":"b","winner":"draw"}';
    const path = file("bad-late.jsonl", bad);
    const error = await parallelFailure(path);
    expect(error.message).toBe(singleFailure(path).message);
    // Blank lines count: the extra "\n" after some rows before it shifts the line number.
    const blankLinesBefore = lines.slice(0, 4321).filter((l) => l.endsWith("\n")).length;
    expect([error.line, error.field]).toEqual([4322 + blankLinesBefore, "winner"]);
  });

  it("reports the first bad row when both parts have one", async () => {
    const bad = [...lines];
    bad[100] = '{"modelA":"a","modelB":"a","winner":"A"}';
    bad[4900] = "not json";
    const path = file("bad-both.jsonl", bad);
    const error = await parallelFailure(path);
    expect(error.message).toBe(singleFailure(path).message);
    expect(error.message).toMatch(/name the same model/);
  });

  it("stays on one thread for JSON arrays and small files", async () => {
    const votes = syntheticVotes({ votes: 200, strengths: [0, 100] });
    const array = join(dir, "votes.json");
    writeFileSync(array, JSON.stringify(votes, null, 1));
    expect(columns(await readVoteFileParallel(array, "leitai", {}, parallel))).toEqual(columns(readVoteFile(array, "leitai")));
    // A missing worker script would fail any split read.
    const noWorkers = { workerScript: join(dir, "none.cjs"), threads: 2 };
    expect((await readVoteFileParallel(good, "leitai", {}, noWorkers)).length).toBe(5000);
    await expect(readVoteFileParallel(good, "leitai", {}, { ...noWorkers, minBytes: 0 })).rejects.toThrow(/Cannot find module|without a result/);
  });

  it("merges parts whose ids disagree into ids by first appearance", () => {
    const part = (models: string[], a: number[], b: number[], categories: string[], category: number[]): VoteTable => ({
      models,
      categories,
      modelA: Int32Array.from(a),
      modelB: Int32Array.from(b),
      outcome: Uint8Array.from(a.map((_, i) => i % 4)),
      category: Int32Array.from(category),
      length: a.length,
    });
    const merged = mergeVoteTables([part(["x", "y"], [0, 1], [1, 0], [], [-1, -1]), part(["z", "y", "x"], [0, 1, 2], [2, 0, 1], ["c"], [0, -1, 0])]);
    expect(merged.models).toEqual(["x", "y", "z"]);
    expect([...merged.modelA]).toEqual([0, 1, 2, 1, 0]);
    expect([...merged.modelB]).toEqual([1, 0, 0, 2, 1]);
    expect([...merged.outcome]).toEqual([0, 1, 0, 1, 2]);
    expect([...merged.category]).toEqual([-1, -1, 0, -1, 0]);
    expect(merged.categories).toEqual(["c"]);
  });
});

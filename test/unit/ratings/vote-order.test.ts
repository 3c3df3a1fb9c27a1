import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { numberValue } from "@/lib/ratings/fast/flat-json";
import { onlineEloTable, readVoteFile, readVoteFileParallel, Rng, sortByTime, timeOrder, type VoteTable } from "@/lib/ratings";
import { syntheticVotes } from "./synthetic";

const dir = mkdtempSync(join(tmpdir(), "leitai-vote-order-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fileCount = 0;

function file(rows: object[]): string {
  const path = join(dir, `battles-${fileCount++}.jsonl`);
  writeFileSync(path, rows.map((row) => JSON.stringify(row)).join("\n") + "\n");
  return path;
}

const winners = { A: "model_a", B: "model_b", tie: "tie", both_bad: "tie (bothbad)" } as const;

/** FastChat rows with tstamps in shuffled order, some of them equal (four decimals, like FastChat's). */
function battles(count: number): { model_a: string; model_b: string; winner: string; tstamp?: number }[] {
  const rng = new Rng(5);
  return syntheticVotes({ votes: count, strengths: [0, 80, 160, 240] }).map((v) => ({
    model_a: v.modelA,
    model_b: v.modelB,
    winner: winners[v.winner],
    tstamp: Math.round((1_682_351_591 + 3_600 * rng.nextDouble()) * 1e4) / 1e4,
  }));
}

function elo(table: VoteTable): Record<string, number> {
  const rating = onlineEloTable(table);
  return Object.fromEntries(table.models.map((model, id) => [model, rating[id]!]));
}

function rows(table: VoteTable): string[] {
  return Array.from({ length: table.length }, (_, v) => `${table.models[table.modelA[v]!]} ${table.models[table.modelB[v]!]} ${table.outcome[v]}`);
}

describe("online Elo in tstamp order", () => {
  const shuffled = battles(3000);
  // Equal stamps (here every tenth row shares its predecessor's) must keep file order.
  shuffled.forEach((row, i) => i % 10 === 9 && (row.tstamp = shuffled[i - 1]!.tstamp));
  const sorted = [...shuffled].sort((x, y) => x.tstamp! - y.tstamp!); // Array sort is stable

  it("reads tstamp into a time column, on the fast path and through JSON.parse alike", () => {
    const table = readVoteFile(file(shuffled), "fastchat");
    expect(Array.from(table.time!)).toEqual(shuffled.map((row) => row.tstamp));
    const nested = shuffled.slice(0, 50).map((row, i) => (i % 3 === 0 ? { ...row, conv_metadata: { sum_user_tokens: i } } : row));
    expect(Array.from(readVoteFile(file(nested), "fastchat").time!)).toEqual(nested.map((row) => row.tstamp));
  });

  it("gives the Elo of the file sorted by tstamp, rows with equal stamps in file order", () => {
    const ordered = sortByTime(readVoteFile(file(shuffled), "fastchat"));
    const presorted = readVoteFile(file(sorted), "fastchat");
    expect(rows(ordered)).toEqual(rows(presorted));
    expect(elo(ordered)).toEqual(elo(presorted));
    // File order gives other ratings, so the order really mattered.
    expect(elo(readVoteFile(file(shuffled), "fastchat"))).not.toEqual(elo(presorted));
  });

  it("returns a table already in time order as it is", () => {
    const table = readVoteFile(file(sorted), "fastchat");
    expect(sortByTime(table)).toBe(table);
  });

  it("keeps file order when a row lacks a numeric tstamp", () => {
    const missing = shuffled.map((row, i) => (i === 1234 ? { ...row, tstamp: undefined } : row));
    const text = shuffled.map((row, i) => (i === 77 ? { ...row, tstamp: "1682351591" } : row));
    for (const path of [file(missing), file(text)]) {
      const table = readVoteFile(path, "fastchat");
      expect(table.time).toBeUndefined();
      expect(sortByTime(table)).toBe(table);
    }
  });

  it("reads only the rows kept: skipped non-anonymous rows need no tstamp", () => {
    const mixed = shuffled.slice(0, 10).map((row, i) => (i % 2 ? { ...row, anony: true } : { model_a: row.model_a, model_b: row.model_b, winner: row.winner, anony: false }));
    const table = readVoteFile(file(mixed), "fastchat", { anonyOnly: true });
    expect(Array.from(table.time!)).toEqual(mixed.filter((_, i) => i % 2).map((row) => row.tstamp));
  });

  it("reads the same times on two threads as on one", async () => {
    const path = file(shuffled);
    const workerScript = fileURLToPath(new URL("../../../lib/ratings/fast/ratings-worker.ts", import.meta.url));
    const parallel = await readVoteFileParallel(path, "fastchat", {}, { workerScript, threads: 2, minBytes: 0 });
    expect(Array.from(parallel.time!)).toEqual(Array.from(readVoteFile(path, "fastchat").time!));
  }, 30_000);
});

describe("time order", () => {
  it("matches a stable comparison sort, negatives, zeros and repeats included", () => {
    const rng = new Rng(13);
    const pool = [0, -0, 1.5, -1.5, 1e-300, -1e300, 1_682_351_591.1322, 1_682_351_591.1323];
    const time = Float64Array.from({ length: 20_000 }, (_, i) => (i % 3 === 0 ? pool[i % pool.length]! : (rng.nextDouble() - 0.5) * 10 ** Math.floor(rng.nextDouble() * 12)));
    const expected = Array.from(time.keys()).sort((x, y) => time[x]! - time[y]!);
    expect(Array.from(timeOrder(time))).toEqual(expected);
  });
});

describe("numberValue", () => {
  it("reads JSON numbers exactly as Number() does", () => {
    const rng = new Rng(21);
    const texts = ["0", "-0", "7", "-98765432", "1682351591.1322", "1682351591.13221234", "0.1", "0.30000000000000004", "9007199254740993", "123456789012345678901234", "1e9", "-2.5E-3", "1.0000000000000000000000001"];
    for (let i = 0; i < 2000; i++) texts.push(String(Math.round(rng.nextDouble() * 1e14) / 10 ** Math.floor(rng.nextDouble() * 8)));
    for (const text of texts) {
      const bytes = Buffer.from(` ${text} `);
      expect(numberValue(bytes, 1, bytes.length - 1), text).toBe(Number(text)); // toBe: Object.is, so −0 ≠ 0
    }
  });
});

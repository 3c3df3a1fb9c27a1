import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { syntheticVotes } from "./synthetic";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "leitai-ratings-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function ratings(...args: string[]) {
  return spawnSync("bash", ["scripts/ratings.sh", ...args], { cwd: root, encoding: "utf8" });
}

// Each test spawns the bundled CLI (what `npm run ratings` runs); allow for a busy machine.
describe("ratings CLI", { timeout: 30_000 }, () => {
  const fastchat = join(dir, "battles.json");
  const winners = { A: "model_a", B: "model_b", tie: "tie", both_bad: "tie (bothbad)" } as const;
  const votes = syntheticVotes({ votes: 400, strengths: [0, 100, 200] });
  writeFileSync(fastchat, JSON.stringify(votes.map((v, i) => ({ model_a: v.modelA, model_b: v.modelB, winner: winners[v.winner], anony: i % 2 === 0 }))));

  it("prints per-model ratings as JSON, sorted by rank then rating", () => {
    const run = ratings("--input", fastchat, "--format", "fastchat", "--bootstrap", "20", "--seed", "3", "--json");
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    const rows = JSON.parse(run.stdout) as Record<string, unknown>[];
    expect(rows.map((r) => r.model)).toEqual(["m2", "m1", "m0"]);
    expect(Object.keys(rows[0]!)).toEqual(["model", "elo", "bt", "ci_low", "ci_high", "rank", "win_rate", "battles", "wins", "losses", "ties"]);
    expect(rows.reduce((s, r) => s + (r.battles as number), 0)).toBe(800);
  });

  it("prints an aligned table, here for anonymous battles only", () => {
    const run = ratings("--input", fastchat, "--format", "fastchat", "--anony-only", "--bootstrap", "10");
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^200 votes, 3 models, 10 bootstrap rounds \(seed 42\)/);
    expect(run.stdout).toMatch(/rank\s+model\s+bt\s+95% CI\s+elo\s+win rate\s+battles\s+wins\s+losses\s+ties/);
  });

  it("exits 2 naming the line and field of a bad row, without a stack trace", () => {
    const bad = join(dir, "bad.jsonl");
    writeFileSync(bad, '{"modelA":"a","modelB":"b","winner":"A"}\n{"modelA":"a","modelB":"b","winner":"draw"}\n');
    const run = ratings("--input", bad, "--format", "leitai");
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/line 2: "winner" must be one of/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.stdout).toBe("");
  });

  it("reads a large file on two threads, naming the exact line of a bad row in the second part", () => {
    const big = join(dir, "big.jsonl");
    const line = (i: number) => `{"modelA":"m${i % 7}","modelB":"n${i % 5}","winner":"${i % 3 === 0 ? "A" : "tie"}","at":${i}}\n`;
    const count = 200_000; // ≈ 11 MB: past the size where reading splits across threads
    const text = Array.from({ length: count }, (_, i) => line(i)).join("");
    writeFileSync(big, text);
    const run = ratings("--input", big, "--format", "leitai", "--bootstrap", "2");
    expect([run.status, run.stderr]).toEqual([0, ""]);
    expect(run.stdout).toMatch(/^200000 votes, 12 models/);
    const half = Array.from({ length: count / 2 }, (_, i) => line(i)).join("");
    writeFileSync(big, text + '{"modelA":"a","modelB":"b","winner":"draw"}\n' + half);
    const bad = ratings("--input", big, "--format", "leitai");
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(new RegExp(`line ${count + 1}: "winner" must be one of`));
  });

  it("exits 2 on a missing file or bad arguments", () => {
    expect(ratings("--input", join(dir, "none.jsonl")).status).toBe(2);
    const run = ratings("--format", "csv", "--input", fastchat);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/--format must be one of leitai, fastchat/);
    const anchor = ratings("--format", "fastchat", "--input", fastchat, "--anchor", "gpt-9=1000", "--bootstrap", "0");
    expect([anchor.status, anchor.stderr]).toEqual([2, expect.stringMatching(/--anchor: model "gpt-9" has no battles/)]);
  });
});

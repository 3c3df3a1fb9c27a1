import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { onlineElo, type RatedVote } from "@/lib/ratings";
import { repeat, styledVotes, syntheticVotes } from "./synthetic";

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
    expect(Object.keys(rows[0]!)).toEqual([
      "model",
      "elo",
      "elo_order",
      "bt",
      "bound",
      "ci_low",
      "ci_high",
      "rank",
      "win_rate",
      "battles",
      "wins",
      "losses",
      "ties",
      "provisional",
    ]);
    expect(rows.map((r) => [r.elo_order, r.bound, r.provisional])).toEqual(Array(3).fill(["file", null, false]));
    expect(rows.reduce((s, r) => s + (r.battles as number), 0)).toBe(800);
  });

  it("prints an aligned table, here for anonymous battles only", () => {
    const run = ratings("--input", fastchat, "--format", "fastchat", "--anony-only", "--bootstrap", "10");
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^200 votes, 3 models, 10 bootstrap rounds \(seed 42\), .*, online Elo in file order \(not every row has a numeric tstamp\), scale: mean 1000 over the rated models\n/);
    expect(run.stdout).toMatch(/rank\s+model\s+bt\s+95% CI\s+elo\s+win rate\s+battles\s+wins\s+losses\s+ties/);
  });

  it("anchors FastChat files as FastChat does unless told otherwise, and says which scale is in force", () => {
    const mixtral = join(dir, "mixtral.json");
    const names = ["m0", "mixtral-8x7b-instruct-v0.1", "m2"];
    writeFileSync(mixtral, JSON.stringify(votes.map((v) => ({
      model_a: names[Number(v.modelA.slice(1))], model_b: names[Number(v.modelB.slice(1))], winner: winners[v.winner],
    }))));
    const rows = (...args: string[]) => {
      const run = ratings("--input", mixtral, "--format", "fastchat", "--bootstrap", "10", "--json", ...args);
      expect(run.status).toBe(0);
      return new Map((JSON.parse(run.stdout) as { model: string; bt: number; ci_low: number; ci_high: number }[]).map((r) => [r.model, r]));
    };
    const pinned = rows();
    const mean = rows("--anchor", "none");
    const own = rows("--anchor", "m2=1500");
    expect(pinned.get("mixtral-8x7b-instruct-v0.1")!.bt).toBeCloseTo(1114, 9);
    expect([...mean.values()].reduce((s, r) => s + r.bt, 0) / 3).toBeCloseTo(1000, 9);
    expect(own.get("m2")!.bt).toBeCloseTo(1500, 9);
    // an anchor moves every rating by one and the same amount (intervals are taken per bootstrap
    // round relative to the anchor, as FastChat does, so they are not a plain shift)
    const shift = pinned.get("m0")!.bt - mean.get("m0")!.bt;
    expect(Math.abs(shift)).toBeGreaterThan(1);
    for (const [model, r] of mean) expect(pinned.get(model)!.bt - r.bt).toBeCloseTo(shift, 9);
    for (const [model, r] of own) expect(r.bt - mean.get(model)!.bt).toBeCloseTo(own.get("m2")!.bt - mean.get("m2")!.bt, 9);
    const table = (...args: string[]) => ratings("--input", mixtral, "--format", "fastchat", "--bootstrap", "0", ...args).stdout.split("\n")[0];
    expect(table()).toMatch(/, scale: mixtral-8x7b-instruct-v0\.1 = 1114 \(FastChat's anchor; --anchor none for mean 1000\)$/);
    expect(table("--anchor", "none")).toMatch(/, scale: mean 1000 over the rated models$/);
    expect(table("--anchor", "m2=1500")).toMatch(/, scale: m2 = 1500 \(--anchor\)$/);
  });

  describe("online Elo order", () => {
    const shuffled = votes.map((v, i) => ({ ...v, at: (i * 7919) % 400 }));
    const byTime = [...shuffled].sort((x, y) => x.at - y.at);
    const write = (name: string, list: RatedVote[]) => {
      const path = join(dir, name);
      writeFileSync(path, list.map((v) => JSON.stringify({ model_a: v.modelA, model_b: v.modelB, winner: winners[v.winner], tstamp: 1682351591.1322 + v.at! })).join("\n"));
      return path;
    };
    const shuffledFile = write("shuffled.jsonl", shuffled);
    const sortedFile = write("sorted.jsonl", byTime);
    const elo = (...args: string[]) => {
      const run = ratings("--format", "fastchat", "--bootstrap", "0", "--json", ...args);
      expect([run.status, run.stderr]).toEqual([0, ""]);
      const rows = JSON.parse(run.stdout) as { model: string; elo: number; elo_order: string }[];
      return { order: [...new Set(rows.map((r) => r.elo_order))], elo: Object.fromEntries(rows.map((r) => [r.model, r.elo])) };
    };

    it("sorts by tstamp when every row has one: the Elo of the file sorted by tstamp", () => {
      const fromShuffled = elo("--input", shuffledFile);
      expect(fromShuffled).toEqual({ order: ["tstamp"], elo: onlineElo(byTime) });
      expect(elo("--input", sortedFile)).toEqual(fromShuffled);
    });

    it("keeps file order with --file-order, and says so", () => {
      const kept = elo("--input", shuffledFile, "--file-order");
      expect(kept).toEqual({ order: ["file"], elo: onlineElo(shuffled) });
      expect(kept.elo).not.toEqual(onlineElo(byTime));
      expect(ratings("--input", shuffledFile, "--format", "fastchat", "--bootstrap", "0").stdout).toMatch(/, online Elo in tstamp order, scale: /);
      expect(ratings("--input", shuffledFile, "--format", "fastchat", "--bootstrap", "0", "--file-order").stdout).toMatch(/, online Elo in file order \(--file-order\), scale: /);
    });

    it("explains the order and the bounds in --help", () => {
      const help = ratings("--help");
      expect(help.status).toBe(0);
      expect(help.stdout).toMatch(/\[--file-order\]/);
      expect(help.stdout).toMatch(/in tstamp order \(stable: equal stamps keep file order\)/);
      expect(help.stdout).toMatch(/fewer than 20 battles in a scope are marked provisional/);
    });
  });

  it("prints the bound of a model that never lost, and marks provisional models", () => {
    const path = join(dir, "extreme.json");
    const extreme = [...votes, ...repeat(30, { modelA: "champ", modelB: "m1", winner: "A" }), ...repeat(3, { modelA: "newbie", modelB: "m0", winner: "tie" })];
    writeFileSync(path, JSON.stringify(extreme.map((v) => ({ model_a: v.modelA, model_b: v.modelB, winner: winners[v.winner] }))));
    const json = ratings("--input", path, "--format", "fastchat", "--bootstrap", "20", "--json");
    expect([json.status, json.stderr]).toEqual([0, ""]);
    const rows = JSON.parse(json.stdout) as Record<string, unknown>[];
    expect(rows[0]).toMatchObject({ model: "champ", bound: "upper-open", ci_high: null, rank: 1, provisional: false });
    expect(rows[0]!.ci_low).toBe(rows[0]!.bt);
    expect(rows.find((r) => r.model === "newbie")).toMatchObject({ bound: null, provisional: true, battles: 3 });
    const table = ratings("--input", path, "--format", "fastchat", "--bootstrap", "20").stdout;
    const bound = (rows[0]!.bt as number).toFixed(1);
    expect(table).toMatch(new RegExp(`\\n\\s+1  champ\\s+> ${bound}\\s+${bound} – ∞ `));
    expect(table).toMatch(/\n\s+\d+\*  newbie /);
    expect(table).toMatch(/\n> x: never lost, so no finite rating; x is its one-sided 97\.5% lower limit\.\n\*: provisional, fewer than 20 battles\.\n$/);
    const anchored = ratings("--input", path, "--format", "fastchat", "--bootstrap", "0", "--json", "--anchor", "champ=1500");
    expect(anchored.status).toBe(0);
    expect(anchored.stderr).toBe('ratings: --anchor: "champ" has no finite rating (upper-open); ratings have mean 1000 over the rated models instead\n');
  });

  it("--style-control prints the style-controlled table and coefficients from FastChat's conv_metadata", () => {
    const path = join(dir, "styled.json");
    // m0 and m1 are as strong as m2 and m3 but write 400 more tokens, which voters reward.
    const styled = styledVotes({ votes: 3000, strengths: [1000, 1000, 1000, 1000], lengthEffect: 2, extraTokens: [400, 400, 0, 0] });
    const metadata = (v: RatedVote) => {
      const [ta, ha, la, ba] = v.style!.a;
      const [tb, hb, lb, bb] = v.style!.b;
      const fields = { sum_assistant_a_tokens: ta, header_count_a: { h1: ha }, list_count_a: { ordered: la, unordered: 0 }, bold_count_a: { "**": ba, __: 0 } };
      return { ...fields, sum_assistant_b_tokens: tb, header_count_b: { h1: hb }, list_count_b: { ordered: lb, unordered: 0 }, bold_count_b: { "**": bb, __: 0 } };
    };
    writeFileSync(path, JSON.stringify(styled.map((v, i) => ({ model_a: v.modelA, model_b: v.modelB, winner: winners[v.winner], tstamp: i, conv_metadata: metadata(v) }))));
    const json = ratings("--input", path, "--format", "fastchat", "--bootstrap", "20", "--style-control", "--json");
    expect([json.status, json.stderr]).toEqual([0, ""]);
    type Row = { model: string; bt: number };
    const out = JSON.parse(json.stdout) as { models: Row[]; style_control: { coefficients: Record<string, number>; bootstrap_method: string; models: Row[] } };
    expect(Object.keys(out.style_control.coefficients)).toEqual(["length", "headers", "lists", "bold"]);
    expect(out.style_control.coefficients.length).toBeGreaterThan(0.5);
    expect(out.style_control.bootstrap_method).toBe("exact");
    const gap = (rows: Row[]) => rows.find((r) => r.model === "m0")!.bt - rows.find((r) => r.model === "m3")!.bt;
    expect(gap(out.models)).toBeGreaterThan(100);
    expect(Math.abs(gap(out.style_control.models))).toBeLessThan(30);
    const table = ratings("--input", path, "--format", "fastchat", "--bootstrap", "20", "--style-control");
    expect(table.status).toBe(0);
    expect(table.stdout).toMatch(/\nstyle controlled \(answer length and markdown held equal\): coefficients per standard deviation length \+\d\.\d{3}, headers [+−]\d\.\d{3}, lists [+−]\d\.\d{3}, bold [+−]\d\.\d{3}; bootstrap rounds refitted exactly\n/);
    expect(table.stdout).toMatch(/\n\s*rank  model\s+bt\s+95% CI\s+rank without\n/);
    // Without the flag the counts are not needed, and the output is as before.
    expect(JSON.parse(ratings("--input", path, "--format", "fastchat", "--bootstrap", "0", "--json").stdout)).toBeInstanceOf(Array);
  });

  it("--style-control exits 2 naming the line and the missing count", () => {
    const run = ratings("--input", fastchat, "--format", "fastchat", "--style-control");
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/line 1: style control needs "conv_metadata" with "sum_assistant_a_tokens"/);
    const leitai = join(dir, "unstyled.jsonl");
    writeFileSync(leitai, '{"modelA":"a","modelB":"b","winner":"A","tokensA":10,"headersA":0,"listsA":0,"boldA":0,"tokensB":12,"headersB":0,"listsB":0,"boldB":0}\n{"modelA":"a","modelB":"b","winner":"B"}\n');
    const bad = ratings("--input", leitai, "--format", "leitai", "--style-control");
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/line 2: style control needs "tokensA"/);
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

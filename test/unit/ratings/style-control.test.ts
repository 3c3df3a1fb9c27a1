import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import {
  computeLeaderboard,
  computeLeaderboardFromTable,
  computeLeaderboardParallel,
  fitStyleControl,
  PARALLEL_MIN_STYLE_WORK,
  readVoteFile,
  styleBootstrap,
  styleBootstrapParallel,
  styleData,
  toVoteTable,
  VoteFileError,
  type ModelRating,
  type RatedVote,
  type Winner,
} from "@/lib/ratings";
import { Rng } from "@/lib/ratings";
import { StyleFitHelper } from "@/lib/ratings/fast/parallel-style";
import { redrawCounts, UniformRedraw } from "@/lib/ratings/fast/poisson";
import { PASS_HELPED, passShare, takeChunks } from "@/lib/ratings/fast/style-passes";
import { repeat, styledVotes } from "./synthetic";

const dir = mkdtempSync(join(tmpdir(), "leitai-style-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * 22 hand-written battles: [model_a, model_b, FastChat winner, then side A's tokens, headers,
 * lists, bold and side B's]. Answers that win tend to be longer and carry more lists.
 */
const CASE: [string, string, string, ...number[]][] = [
  ["alpaca-2-7b", "llama-2-13b", "model_a", 420, 2, 5, 3, 180, 0, 1, 0],
  ["llama-2-13b", "alpaca-2-7b", "model_b", 150, 0, 0, 1, 390, 1, 4, 2],
  ["alpaca-2-7b", "tiny-chat", "model_a", 300, 1, 3, 0, 80, 0, 0, 0],
  ["tiny-chat", "alpaca-2-7b", "tie", 95, 0, 2, 0, 310, 2, 2, 1],
  ["qwen-7b", "alpaca-2-7b", "model_a", 260, 0, 3, 2, 400, 3, 6, 4],
  ["alpaca-2-7b", "qwen-7b", "model_b", 350, 1, 2, 2, 280, 0, 4, 1],
  ["qwen-7b", "llama-2-13b", "model_a", 240, 1, 2, 0, 210, 0, 0, 0],
  ["llama-2-13b", "qwen-7b", "tie (bothbad)", 120, 0, 0, 0, 230, 0, 1, 0],
  ["qwen-7b", "tiny-chat", "model_a", 270, 0, 2, 1, 60, 0, 0, 0],
  ["tiny-chat", "qwen-7b", "model_b", 70, 0, 0, 0, 250, 1, 1, 1],
  ["llama-2-13b", "tiny-chat", "model_a", 200, 0, 1, 0, 90, 0, 0, 0],
  ["tiny-chat", "llama-2-13b", "model_a", 140, 1, 3, 2, 160, 0, 0, 0],
  ["alpaca-2-7b", "llama-2-13b", "model_b", 280, 0, 2, 1, 300, 2, 3, 2],
  ["qwen-7b", "alpaca-2-7b", "tie", 255, 1, 1, 1, 330, 1, 3, 3],
  ["alpaca-2-7b", "tiny-chat", "model_b", 220, 0, 0, 0, 260, 3, 5, 4],
  ["llama-2-13b", "qwen-7b", "model_b", 190, 1, 0, 0, 245, 0, 2, 0],
  ["tiny-chat", "llama-2-13b", "model_b", 85, 0, 0, 0, 175, 0, 1, 1],
  ["qwen-7b", "tiny-chat", "tie", 230, 0, 1, 0, 210, 2, 2, 2],
  ["alpaca-2-7b", "qwen-7b", "model_a", 410, 2, 6, 5, 240, 0, 1, 0],
  ["llama-2-13b", "alpaca-2-7b", "tie", 205, 1, 1, 0, 205, 1, 1, 0],
  ["tiny-chat", "qwen-7b", "model_a", 300, 2, 4, 3, 220, 0, 0, 0],
  ["llama-2-13b", "tiny-chat", "model_b", 110, 0, 0, 0, 125, 0, 1, 0],
];

/**
 * FastChat's compute_style_control on CASE (its preprocess_for_style features, the contextual
 * Bradley–Terry fit with reg 0.5 by L-BFGS-B, ratings 400·θ + 1000 with no anchor model
 * present), computed with FastChat's formulas and copied here. L-BFGS-B stops on its relative
 * loss decrease with the gradient still ≈ 5e-5, which moves FastChat's ratings by up to 0.003
 * points from the optimum Newton's method reaches (gradient 1e-15): hence the tolerances.
 */
const FASTCHAT_RATINGS: Record<string, number> = {
  "qwen-7b": 1163.897645,
  "llama-2-13b": 1002.076951,
  "tiny-chat": 982.438548,
  "alpaca-2-7b": 851.586856,
};
const FASTCHAT_COEFFICIENTS = { length: 0.33469318, headers: -0.04452473, lists: 1.57362983, bold: 0.71956659 };

const WINNERS: Record<string, Winner> = { model_a: "A", model_b: "B", tie: "tie", "tie (bothbad)": "both_bad" };

function caseVotes(): RatedVote[] {
  return CASE.map(([modelA, modelB, winner, ...n]) => ({
    modelA,
    modelB,
    winner: WINNERS[winner]!,
    style: { a: [n[0]!, n[1]!, n[2]!, n[3]!], b: [n[4]!, n[5]!, n[6]!, n[7]!] },
  }));
}

/** CASE as FastChat's clean_battle JSON: counts inside conv_metadata, split the way FastChat stores them. */
function caseFastChatJson(): string {
  const split = (n: number, keys: [string, string]) => ({ [keys[0]]: Math.floor(n / 2), [keys[1]]: n - Math.floor(n / 2) });
  const side = (n: number[], s: "a" | "b") => ({
    [`sum_assistant_${s}_tokens`]: n[0]!,
    [`header_count_${s}`]: split(n[1]!, ["h1", "h2"]),
    [`list_count_${s}`]: split(n[2]!, ["ordered", "unordered"]),
    [`bold_count_${s}`]: split(n[3]!, ["**", "__"]),
  });
  const rows = CASE.map(([model_a, model_b, winner, ...n], i) => ({
    model_a,
    model_b,
    winner,
    tstamp: 1_700_000_000 + i,
    anony: true,
    conv_metadata: { ...side(n.slice(0, 4), "a"), ...side(n.slice(4), "b"), turns: 1 },
  }));
  return JSON.stringify(rows, null, 1);
}

function byModel(models: readonly ModelRating[]): Record<string, ModelRating> {
  return Object.fromEntries(models.map((m) => [m.model, m]));
}

describe("style control", () => {
  it("equals FastChat's compute_style_control on a hand-checked case", () => {
    const board = computeLeaderboard(caseVotes(), { bootstrapRounds: 0, styleControl: true });
    const view = board.styleControl!;
    const ratings = byModel(view.models);
    for (const [model, rating] of Object.entries(FASTCHAT_RATINGS)) expect(Math.abs(ratings[model]!.bt - rating)).toBeLessThan(0.005);
    for (const [feature, beta] of Object.entries(FASTCHAT_COEFFICIENTS)) expect(Math.abs(view.coefficients[feature as keyof typeof FASTCHAT_COEFFICIENTS] - beta)).toBeLessThan(1e-4);
    expect(view.models.map((m) => m.model)).toEqual(["qwen-7b", "llama-2-13b", "tiny-chat", "alpaca-2-7b"]);
    // Without style control alpaca-2-7b's long, list-heavy answers rate it well above tiny-chat.
    const plain = byModel(board.models);
    expect(plain["alpaca-2-7b"]!.bt).toBeGreaterThan(plain["tiny-chat"]!.bt);
    expect(view.bootstrapMethod).toBe("none");
    // Counts and Elo are the plain view's.
    for (const m of view.models) expect({ elo: m.elo, battles: m.battles, wins: m.wins }).toEqual({ elo: plain[m.model]!.elo, battles: plain[m.model]!.battles, wins: plain[m.model]!.wins });
  });

  it("reads FastChat's conv_metadata counts (numbers or objects of numbers) from a battle file", () => {
    const path = join(dir, "case.json");
    writeFileSync(path, caseFastChatJson());
    const table = readVoteFile(path, "fastchat", { style: true });
    const view = computeLeaderboardFromTable(table, { bootstrapRounds: 0, styleControl: true }).styleControl!;
    const ratings = byModel(view.models);
    for (const [model, rating] of Object.entries(FASTCHAT_RATINGS)) expect(Math.abs(ratings[model]!.bt - rating)).toBeLessThan(0.005);
    expect(Math.abs(view.coefficients.lists - FASTCHAT_COEFFICIENTS.lists)).toBeLessThan(1e-4);
  });

  it("reads Leitai's flat style fields, and the two formats give the same table", () => {
    const path = join(dir, "case.jsonl");
    const lines = caseVotes().map((v) => {
      const [tokensA, headersA, listsA, boldA] = v.style!.a;
      const [tokensB, headersB, listsB, boldB] = v.style!.b;
      return JSON.stringify({ modelA: v.modelA, modelB: v.modelB, winner: v.winner, tokensA, headersA, listsA, boldA, tokensB, headersB, listsB, boldB });
    });
    writeFileSync(path, lines.join("\n") + "\n");
    const table = readVoteFile(path, "leitai", { style: true });
    expect(Array.from(table.style!)).toEqual(Array.from(toVoteTable(caseVotes()).style!));
  });

  it("names the missing count of a row it cannot style, and ignores style when not asked", () => {
    const path = join(dir, "missing.jsonl");
    writeFileSync(path, [JSON.stringify({ modelA: "a", modelB: "b", winner: "A", tokensA: 3, headersA: 0, listsA: 0, boldA: 0, tokensB: 5, headersB: 0, listsB: 0 })].join("\n"));
    expect(() => readVoteFile(path, "leitai", { style: true })).toThrow(VoteFileError);
    expect(() => readVoteFile(path, "leitai", { style: true })).toThrow(/line 1.*"boldB"/);
    expect(readVoteFile(path, "leitai").style).toBeUndefined();
    const fastchat = join(dir, "no-metadata.json");
    writeFileSync(fastchat, JSON.stringify([{ model_a: "a", model_b: "b", winner: "model_a", tstamp: 1 }]));
    expect(() => readVoteFile(fastchat, "fastchat", { style: true })).toThrow(/conv_metadata/);
    expect(() => computeLeaderboardFromTable(readVoteFile(fastchat, "fastchat"), { styleControl: true })).toThrow(/style counts/);
  });

  it("takes length out of the ratings when length, not the model, wins votes", () => {
    // Four equally strong models; m0 and m1 write long answers, m2 and m3 short ones.
    const votes = styledVotes({ votes: 6000, strengths: [1000, 1000, 1000, 1000], lengthEffect: 2, extraTokens: [400, 400, 0, 0] });
    const board = computeLeaderboard(votes, { bootstrapRounds: 0, styleControl: true });
    const plain = byModel(board.models);
    const styled = byModel(board.styleControl!.models);
    expect(plain.m0!.bt - plain.m3!.bt).toBeGreaterThan(100);
    expect(Math.abs(styled.m0!.bt - styled.m3!.bt)).toBeLessThan(25);
    expect(board.styleControl!.coefficients.length).toBeGreaterThan(0.5);
    expect(Math.abs(board.styleControl!.coefficients.bold)).toBeLessThan(0.1);
  });

  it("reports a model that never lost as unbounded, with the bound that exists", () => {
    const votes = [
      ...styledVotes({ votes: 600, strengths: [1000, 1050, 950], lengthEffect: 0.5 }),
      ...repeat(30, { modelA: "champ", modelB: "m0", winner: "A", style: { a: [300, 0, 2, 1], b: [200, 0, 0, 0] } }),
      ...repeat(20, { modelA: "m1", modelB: "champ", winner: "B", style: { a: [250, 1, 0, 0], b: [260, 0, 1, 0] } }),
    ];
    const view = computeLeaderboard(votes, { bootstrapRounds: 30, styleControl: true }).styleControl!;
    const champ = byModel(view.models).champ!;
    expect(champ.bound).toBe("upper-open");
    expect(champ.ciHigh).toBe(Infinity);
    expect(champ.ciLow).toBe(champ.bt);
    expect(Number.isFinite(champ.bt)).toBe(true);
    expect(champ.bt).toBeGreaterThan(byModel(view.models).m1!.bt);
    expect(view.models[0]!.model).toBe("champ");
    for (const m of view.models.filter((r) => r.model !== "champ")) expect([m.bound, Number.isFinite(m.ciLow), Number.isFinite(m.ciHigh)]).toEqual([null, true, true]);
  });

  it("an anchor shifts every style-controlled rating by one constant", () => {
    const votes = styledVotes({ votes: 3000, strengths: [1000, 1100, 900, 1050], lengthEffect: 1 });
    const free = computeLeaderboard(votes, { bootstrapRounds: 20, styleControl: true }).styleControl!;
    const anchored = computeLeaderboard(votes, { bootstrapRounds: 20, styleControl: true, anchor: { model: "m2", rating: 1114 } }).styleControl!;
    const before = byModel(free.models);
    const after = byModel(anchored.models);
    expect(after.m2!.bt).toBeCloseTo(1114, 9);
    const shift = after.m0!.bt - before.m0!.bt;
    for (const m of free.models) {
      expect(after[m.model]!.bt - m.bt).toBeCloseTo(shift, 8);
      // Each bootstrap round is pinned to the anchor too (as FastChat does): its interval is its rating.
      if (m.model !== "m2") expect(after[m.model]!.ciLow).toBeLessThan(after[m.model]!.bt);
    }
    expect([after.m2!.ciLow, after.m2!.ciHigh]).toEqual([after.m2!.bt, after.m2!.bt].map((x) => expect.closeTo(x, 8)));
    expect(anchored.coefficients).toEqual(free.coefficients);
  });

  it("bootstrap: the same seed gives the same intervals, which cover the fit", () => {
    const votes = styledVotes({ votes: 2000, strengths: [1000, 1100, 900], lengthEffect: 1 });
    const one = computeLeaderboard(votes, { bootstrapRounds: 40, seed: 3, styleControl: true }).styleControl!;
    const two = computeLeaderboard(votes, { bootstrapRounds: 40, seed: 3, styleControl: true }).styleControl!;
    expect(two).toEqual(one);
    expect(one.bootstrapMethod).toBe("exact");
    for (const m of one.models) {
      expect(m.ciLow).toBeLessThan(m.bt);
      expect(m.ciHigh).toBeGreaterThan(m.bt);
      expect(m.ciHigh - m.ciLow).toBeGreaterThan(20);
      expect(m.ciHigh - m.ciLow).toBeLessThan(120);
    }
  });

  it("linearised bootstrap rounds agree with exact refits of the same redraws", () => {
    const votes = styledVotes({ votes: 40_000, strengths: [1000, 1100, 900, 1050, 980, 1020], lengthEffect: 1 });
    const table = toVoteTable(votes);
    const data = styleData(table, [...table.models].sort());
    const fit = fitStyleControl(data);
    expect(fit.converged).toBe(true);
    // 300 rounds × 40,000 battles is past EXACT_BOOTSTRAP_WORK: linearised unless forced.
    const linearised = styleBootstrap(data, fit, { rounds: 300, seed: 9 });
    const exact = styleBootstrap(data, fit, { rounds: 300, seed: 9, exact: true });
    expect([linearised.method, exact.method]).toEqual(["linearised", "exact"]);
    expect(linearised.linearisationError!).toBeGreaterThan(0);
    // Intervals here are ±10 points wide; the linearisation moves a round by a hundredth of that.
    expect(linearised.linearisationError!).toBeLessThan(0.2);
    for (let i = 0; i < data.models.length; i++) {
      expect(Math.abs(linearised.ciLow[i]! - exact.ciLow[i]!)).toBeLessThan(0.2);
      expect(Math.abs(linearised.ciHigh[i]! - exact.ciHigh[i]!)).toBeLessThan(0.2);
    }
  });
});

describe("style-control bootstrap internals", () => {
  it("groups battles by pair, and the fit is the one on battles in vote order", () => {
    const votes = styledVotes({ votes: 3000, strengths: [1000, 1100, 900, 1050], lengthEffect: 1, seed: 8 });
    const table = toVoteTable(votes);
    const models = [...table.models].sort();
    const grouped = styleData(table, models);
    const plain = styleData(table, models, undefined, { grouped: false });
    expect(grouped.length).toBe(plain.length);
    // 4 models: at most 12 ordered pairs, each one run.
    expect(grouped.runs.length - 1).toBeLessThanOrEqual(12);
    for (let p = 0; p + 1 < grouped.runs.length; p++) {
      for (let r = grouped.runs[p]!; r < grouped.runs[p + 1]!; r++) {
        expect([grouped.a[r], grouped.b[r]]).toEqual([grouped.a[grouped.runs[p]!], grouped.b[grouped.runs[p]!]]);
      }
    }
    const one = fitStyleControl(grouped);
    const two = fitStyleControl(plain);
    for (let i = 0; i < models.length; i++) expect(one.theta[i]!).toBeCloseTo(two.theta[i]!, 6);
    for (let k = 0; k < 4; k++) expect(one.beta[k]!).toBeCloseTo(two.beta[k]!, 6);
    // On shared memory, for worker threads to read in place.
    expect(grouped.features.buffer).toBeInstanceOf(SharedArrayBuffer);
  });

  it("a thread sharing a fit finds no chunk to take before the first pass opens", () => {
    const votes = styledVotes({ votes: 500, strengths: [1000, 1100, 900], lengthEffect: 1 });
    const table = toVoteTable(votes);
    const { share } = passShare(styleData(table, [...table.models].sort()));
    const taken: number[] = [];
    takeChunks(share.control, 8, (chunk) => taken.push(chunk));
    expect(taken).toEqual([]);
  });

  it.each([1, 2, 3, 4097, 10_000])("redraws %d battles as Multinomial(n, uniform): counts sum to n", (n) => {
    const redraw = new UniformRedraw(n);
    const counts = new Uint8Array(n);
    for (let round = 0; round < 20; round++) {
      const extra = redrawCounts(redraw, new Rng(round), counts);
      let total = extra.length;
      for (let r = 0; r < n; r++) total += counts[r]!;
      expect(total).toBe(n);
      for (const r of extra) expect(r >= 0 && r < n).toBe(true);
    }
  });

  it("gives each battle a Binomial(n, 1/n) count, value by value", () => {
    const n = 1000;
    const rounds = 400;
    const redraw = new UniformRedraw(n);
    const counts = new Uint8Array(n);
    const seen = new Float64Array(8);
    for (let round = 0; round < rounds; round++) {
      const extra = redrawCounts(redraw, new Rng(1000 + round), counts);
      const final = Array.from(counts);
      for (const r of extra) final[r]!++;
      for (const c of final) seen[Math.min(c, 7)]++;
    }
    const draws = n * rounds;
    // pmf(k) = C(n, k)·(1/n)^k·(1 − 1/n)^(n − k), the last bin holding the tail.
    let pmf = (1 - 1 / n) ** n;
    let left = 1;
    for (let k = 0; k < 8; k++) {
      const p = k < 7 ? pmf : left;
      const band = 5 * Math.sqrt((p * (1 - p)) / draws) + 1e-4;
      expect(Math.abs(seen[k]! / draws - p)).toBeLessThan(band);
      left -= pmf;
      pmf *= ((n - k) / (k + 1)) * (1 / n / (1 - 1 / n));
    }
    // The guide has slots a CDF step cuts: about 0.2 % of the draws above (≈ 800) took the 41-bit refinement.
    expect(Array.from(redraw.guide).filter((g) => g < 0).length).toBeGreaterThan(0);
  });
});

describe("style-control rounds over threads", { timeout: 120_000 }, () => {
  const workerScript = fileURLToPath(new URL("../../../lib/ratings/fast/ratings-worker.ts", import.meta.url));

  it("matches the single-threaded linearised bootstrap bit for bit", async () => {
    // 200,000 battles × 100 rounds: linearised, and past the work below which rounds stay on one thread.
    const votes = styledVotes({ votes: 200_000, strengths: [1000, 1100, 900, 1050, 980], lengthEffect: 1, seed: 5 });
    const table = toVoteTable(votes);
    const data = styleData(table, [...table.models].sort());
    const fit = fitStyleControl(data);
    const options = { rounds: 100, seed: 4 };
    expect(data.length * options.rounds).toBeGreaterThanOrEqual(PARALLEL_MIN_STYLE_WORK);
    const parallel = await styleBootstrapParallel(data, fit, options, { workerScript, threads: 2 });
    const single = styleBootstrap(data, fit, options);
    expect(parallel.method).toBe("linearised");
    expect(Array.from(parallel.ratings)).toEqual(Array.from(single.ratings));
    expect(parallel.linearisationError).toBe(single.linearisationError);
    // Three threads taking rounds from the shared counter: still the same rows.
    const three = await styleBootstrapParallel(data, fit, options, { workerScript, threads: 3 });
    expect(Array.from(three.ratings)).toEqual(Array.from(single.ratings));
  });

  it("computes the same style-controlled leaderboard on threads, categories included", async () => {
    // 210,000 battles: the overall scope's style rounds split over threads; the category's
    // (about half) are linearised on one thread; the plain rounds run on a worker meanwhile.
    const votes = styledVotes({ votes: 210_000, strengths: [1000, 1100, 900, 1050, 980], lengthEffect: 1, seed: 6 }).map((vote, v) => ({ ...vote, category: v % 2 ? "coding" : null }));
    const table = toVoteTable(votes);
    const options = { bootstrapRounds: 100, seed: 3, styleControl: true, anchor: { model: "m1", rating: 1200 } };
    const parallel = await computeLeaderboardParallel(table, options, { workerScript, threads: 2 });
    expect(parallel.styleControl!.bootstrapMethod).toBe("linearised");
    expect(parallel).toEqual(computeLeaderboardFromTable(table, options));
  });
  it("a helper thread sums part of a fit's passes: the same fit, bit for bit", async () => {
    const votes = styledVotes({ votes: 100_000, strengths: [1000, 1100, 900, 1050, 980, 1010], lengthEffect: 1, seed: 7 });
    const table = toVoteTable(votes);
    const data = styleData(table, [...table.models].sort());
    const alone = fitStyleControl(data);
    const helper = StyleFitHelper.start({ workerScript, threads: 2 })!;
    try {
      // Until the helper has started it takes no part: wait for it to say it listens.
      expect(await helper.ready).toBe(true);
      // It may still pick a fit up only after the fit is over: fit again until it has taken
      // part (each fit equal). Each try is a whole fit, so a few are plenty.
      let helped = 0;
      for (let attempt = 0; attempt < 20 && helped === 0; attempt++) {
        const pass = helper.share(data);
        const shared = fitStyleControl(data, { pass });
        helper.finish(pass);
        helped = pass.share.control[PASS_HELPED]!;
        expect([Array.from(shared.theta), Array.from(shared.beta), shared.iterations]).toEqual([Array.from(alone.theta), Array.from(alone.beta), alone.iterations]);
      }
      expect(helped).toBeGreaterThan(0);
    } finally {
      helper.close();
    }
  });
});

import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  aggregate,
  bootstrap,
  bootstrapParallel,
  bootstrapRounds,
  computeLeaderboardFromTable,
  computeLeaderboardParallel,
  fitBradleyTerry,
  PARALLEL_MIN_BOOTSTRAP_WORK,
  toVoteTable,
  type ThreadOptions,
} from "@/lib/ratings";
import { syntheticVotes } from "./synthetic";

const workerScript = fileURLToPath(new URL("../../../lib/ratings/fast/ratings-worker.ts", import.meta.url));
const strengths = Array.from({ length: 40 }, (_, i) => 10 * i);
// 40 models × 1600 rounds: past the work below which the rounds stay on one thread.
const rounds = 1600;
const votes = syntheticVotes({ votes: 20_000, strengths, categories: [null, "coding", "math"] });
const counts = aggregate(votes);

describe("bootstrap rounds over threads", { timeout: 60_000 }, () => {
  it("gives each round its own stream: any split of the rounds yields the same bits", () => {
    const fit = fitBradleyTerry(counts);
    const options = { seed: 9, fullFit: fit };
    const whole = bootstrapRounds(counts, options, 0, 12);
    const parts = [bootstrapRounds(counts, options, 0, 5), bootstrapRounds(counts, options, 5, 11), bootstrapRounds(counts, options, 11, 12)];
    expect(Array.from(parts.flatMap((part) => Array.from(part)))).toEqual(Array.from(whole));
  });

  it.each([2, 3])("matches the single-threaded bootstrap bit for bit (%i threads)", async (threads) => {
    expect(rounds * strengths.length ** 2).toBeGreaterThanOrEqual(PARALLEL_MIN_BOOTSTRAP_WORK);
    const options = { rounds, seed: 42 };
    const parallel = await bootstrapParallel(counts, options, { workerScript, threads });
    const single = bootstrap(counts, options);
    expect(Array.from(parallel.ratings)).toEqual(Array.from(single.ratings));
    expect(Array.from(parallel.ciLow)).toEqual(Array.from(single.ciLow));
    expect(Array.from(parallel.ciHigh)).toEqual(Array.from(single.ciHigh));
  });

  it("computes the same leaderboard, categories and anchor included", async () => {
    const table = toVoteTable(votes);
    const options = { bootstrapRounds: rounds, seed: 5, anchor: { model: "m3", rating: 1200 } };
    const parallel: ThreadOptions = { workerScript, threads: 2 };
    expect(await computeLeaderboardParallel(table, options, parallel)).toEqual(computeLeaderboardFromTable(table, options));
  });

  it("really uses workers: a missing worker script fails the run", async () => {
    await expect(bootstrapParallel(counts, { rounds }, { workerScript: "/nonexistent/worker.cjs", threads: 2 })).rejects.toThrow(/Cannot find module|without a result/);
  });
});

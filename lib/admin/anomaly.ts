import { deriveSeed, Rng } from "../ratings/core/rng";

/**
 * Flags voters whose votes are improbable given everyone else's votes on the same model
 * pairs (after FastChat's vote monitor).
 *
 * For each vote of voter v on the pair {a, b}, p = the leave-one-voter-out probability of
 * that outcome: (others' votes with this outcome on the pair + 1) / (others' votes on the
 * pair + 4), with the four outcomes first-wins, second-wins, tie, both-bad (add-one
 * smoothing, so a pair nobody else voted on gives p = 1/4 and carries no evidence).
 * The statistic is S = Σ −log p. Under the null ("v votes like everyone else") each vote's
 * outcome is drawn from those same smoothed probabilities; its distribution is estimated
 * by simulation with a seeded PRNG, and the p-value is (1 + #{S_sim ≥ S}) / (1 + rounds)
 * (simulation stops early once the p-value cannot fall below alpha; the estimate so far is reported).
 * A voter with at least `minVotes` votes is flagged when the p-value is below `alpha`.
 * With many voters some are flagged by chance (α per voter): a flag asks for a look, it is
 * not proof.
 */

export type AnomalyVote = { voterKey: string; modelAId: string; modelBId: string; winner: "A" | "B" | "tie" | "both_bad" };

export type VoterAnomaly = {
  voterKey: string;
  votes: number;
  /** Σ −log p over the voter's votes. */
  statistic: number;
  /** Mean of the statistic under the null, for scale. */
  expected: number;
  pValue: number;
  flagged: boolean;
};

export type AnomalyOptions = { minVotes?: number; alpha?: number; rounds?: number; seed?: number };

const OUTCOMES = 4;

/** Outcome index on the pair ordered by model id, so side swaps do not matter. */
function outcomeOf(v: AnomalyVote): { pair: string; outcome: number } {
  const swapped = v.modelAId > v.modelBId;
  const pair = swapped ? `${v.modelBId}\u0000${v.modelAId}` : `${v.modelAId}\u0000${v.modelBId}`;
  let outcome = v.winner === "tie" ? 2 : v.winner === "both_bad" ? 3 : v.winner === "A" ? 0 : 1;
  if (swapped && outcome < 2) outcome = 1 - outcome;
  return { pair, outcome };
}

export function detectVoteAnomalies(votes: AnomalyVote[], options: AnomalyOptions = {}): VoterAnomaly[] {
  const { minVotes = 5, alpha = 0.05, rounds = 1000, seed = 20261127 } = options;
  const totals = new Map<string, number[]>();
  const byVoter = new Map<string, { pair: string; outcome: number }[]>();
  for (const v of votes) {
    const o = outcomeOf(v);
    let t = totals.get(o.pair);
    if (!t) totals.set(o.pair, (t = new Array<number>(OUTCOMES).fill(0)));
    t[o.outcome]!++;
    let list = byVoter.get(v.voterKey);
    if (!list) byVoter.set(v.voterKey, (list = []));
    list.push(o);
  }

  const results: VoterAnomaly[] = [];
  for (const [voterKey, list] of byVoter) {
    if (list.length < minVotes) continue;
    // The voter's own counts per pair, taken out of the totals (leave-one-voter-out).
    const own = new Map<string, number[]>();
    for (const o of list) {
      let c = own.get(o.pair);
      if (!c) own.set(o.pair, (c = new Array<number>(OUTCOMES).fill(0)));
      c[o.outcome]!++;
    }
    const probsByPair = new Map<string, number[]>();
    for (const [pair, c] of own) {
      const t = totals.get(pair)!;
      const others = t.map((x, k) => x - c[k]!);
      const n = others.reduce((s, x) => s + x, 0);
      probsByPair.set(pair, others.map((x) => (x + 1) / (n + OUTCOMES)));
    }
    const perVote = list.map((o) => probsByPair.get(o.pair)!);
    const statistic = list.reduce((s, o, i) => s - Math.log(perVote[i]![o.outcome]!), 0);

    const rng = new Rng(deriveSeed(seed, voterKey));
    // Once this many simulated sums reach S, the full run's p-value is ≥ alpha whatever
    // follows, so simulation stops: the flag is the same as a full run, at a fraction of the cost.
    const enough = Math.max(1, Math.ceil(alpha * (1 + rounds) - 1));
    let atLeast = 0;
    let sum = 0;
    let done = 0;
    while (done < rounds && atLeast < enough) {
      let s = 0;
      for (const p of perVote) {
        const u = rng.nextFloat();
        let k = 0;
        let acc = p[0]!;
        while (u >= acc && k < OUTCOMES - 1) acc += p[++k]!;
        s -= Math.log(p[k]!);
      }
      sum += s;
      done++;
      // A small tolerance so ties with the observed value (discrete sums) count as "at least".
      if (s >= statistic - 1e-9) atLeast++;
    }
    const pValue = (1 + atLeast) / (1 + done);
    const flagged = done === rounds && pValue < alpha;
    results.push({ voterKey, votes: list.length, statistic, expected: sum / done, pValue, flagged });
  }
  return results.sort((a, b) => a.pValue - b.pValue || b.votes - a.votes);
}

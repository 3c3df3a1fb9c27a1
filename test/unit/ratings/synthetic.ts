import { Rng, type RatedVote, type Winner } from "@/lib/ratings";

/** Seeded battles between models of known strength (rating points), for tests. */
export function syntheticVotes(options: { votes: number; strengths: number[]; seed?: number; tieRate?: number; categories?: (string | null)[] }): RatedVote[] {
  const { votes, strengths, seed = 7, tieRate = 0.1, categories = [null] } = options;
  const rng = new Rng(seed);
  const m = strengths.length;
  const out: RatedVote[] = [];
  for (let v = 0; v < votes; v++) {
    const a = Math.floor(rng.nextDouble() * m);
    let b = Math.floor(rng.nextDouble() * (m - 1));
    if (b >= a) b++;
    const pA = 1 / (1 + 10 ** ((strengths[b]! - strengths[a]!) / 400));
    const u = rng.nextDouble();
    const winner: Winner = u < tieRate * 0.7 ? "tie" : u < tieRate ? "both_bad" : rng.nextDouble() < pA ? "A" : "B";
    const category = categories[Math.floor(rng.nextDouble() * categories.length)] ?? null;
    out.push({ modelA: `m${a}`, modelB: `m${b}`, winner, category, at: v });
  }
  return out;
}

/** The same votes with every battle's sides (and its winner) swapped. */
export function swapSides(votes: RatedVote[]): RatedVote[] {
  const swapped: Record<Winner, Winner> = { A: "B", B: "A", tie: "tie", both_bad: "both_bad" };
  return votes.map((v) => ({ ...v, modelA: v.modelB, modelB: v.modelA, winner: swapped[v.winner] }));
}

export function repeat(count: number, vote: RatedVote): RatedVote[] {
  return Array.from({ length: count }, () => ({ ...vote }));
}

/**
 * Seeded battles where answer style also sways the vote: side A's win log-odds are the
 * strength gap plus `lengthEffect` times FastChat's length feature (a − b) / (a + b + 1),
 * answer lengths uniform in [50, 550) tokens plus the model's `extraTokens`; headers, lists and bold are random small counts
 * with no effect.
 */
export function styledVotes(options: { votes: number; strengths: number[]; lengthEffect: number; extraTokens?: number[]; seed?: number; tieRate?: number }): RatedVote[] {
  const { votes, strengths, lengthEffect, extraTokens = [], seed = 11, tieRate = 0.1 } = options;
  const rng = new Rng(seed);
  const m = strengths.length;
  const small = () => Math.floor(rng.nextDouble() * 4);
  const out: RatedVote[] = [];
  for (let v = 0; v < votes; v++) {
    const a = Math.floor(rng.nextDouble() * m);
    let b = Math.floor(rng.nextDouble() * (m - 1));
    if (b >= a) b++;
    const tokensA = 50 + Math.floor(rng.nextDouble() * 500) + (extraTokens[a] ?? 0);
    const tokensB = 50 + Math.floor(rng.nextDouble() * 500) + (extraTokens[b] ?? 0);
    const z = ((strengths[a]! - strengths[b]!) * Math.LN10) / 400 + (lengthEffect * (tokensA - tokensB)) / (tokensA + tokensB + 1);
    const pA = 1 / (1 + Math.exp(-z));
    const u = rng.nextDouble();
    const winner: Winner = u < tieRate ? "tie" : rng.nextDouble() < pA ? "A" : "B";
    out.push({ modelA: `m${a}`, modelB: `m${b}`, winner, style: { a: [tokensA, small(), small(), small()], b: [tokensB, small(), small(), small()] } });
  }
  return out;
}

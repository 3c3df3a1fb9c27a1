import { ELO_PER_NAT, fitBradleyTerry, logSigmoid } from "./bradley-terry";
import type { PairCounts, RatingBound } from "../types";

/**
 * (No FastChat counterpart: FastChat's regularised fit gives such models a finite rating far
 * from the rest; Leitai bounds them instead.)
 *
 * Which models of a scope have a finite Bradley–Terry rating. Say i "scored against" j when
 * i beat j or tied with j at least once (a tie is half a win and half a loss). The
 * maximum-likelihood ratings exist exactly when this graph is strongly connected: a set of
 * models nobody outside it ever scored against can be pushed up without limit, each push
 * raising the likelihood (and symmetrically down for a set that never scored outside).
 *
 * Per set of models that met (directly or not), the strongly connected group with the most
 * battles inside it is the reference: its models are rated as usual, on the battles among
 * themselves (the limit of the likelihood as the others run off to ±∞ — their battles with
 * the reference then weigh nothing). Every other model there is open on one side: above when
 * it can reach the reference through "scored against" but the reference cannot reach it,
 * below for the converse, and "open" on both sides when neither holds (it met only models
 * open the other way). A set that is strongly connected on its own is all reference, so with
 * no extreme model nothing changes.
 */
export interface Separation {
  /** Per model of the counts: null when its rating is finite, else the open side. */
  bound: (RatingBound | null)[];
  /** Indices of the models with a finite rating, ascending (so name order is kept). */
  bounded: number[];
  /** Strongly connected groups, each after every group it scored against. */
  groups: number[][];
}

/** Separates the models of `counts` into rated ones and ones open on a side; O(models²). */
export function separate(counts: PairCounts): Separation {
  const m = counts.models.length;
  const scored = (i: number, j: number) => counts.wins[i * m + j]! + counts.ties[i * m + j]! > 0;
  const groups = stronglyConnected(m, scored);
  const bound: (RatingBound | null)[] = new Array<RatingBound | null>(m).fill(null);
  if (groups.length > 1) {
    const groupOf = new Int32Array(m);
    groups.forEach((group, g) => group.forEach((i) => (groupOf[i] = g)));
    for (const members of metSets(counts)) {
      const reference = referenceGroup(counts, groups, groupOf, members);
      const below = reachable(m, reference, scored);
      const above = reachable(m, reference, (i, j) => scored(j, i));
      for (const i of members) {
        if (groupOf[i] === groupOf[reference[0]!]) continue;
        bound[i] = above[i] ? "upper-open" : below[i] ? "lower-open" : "open";
      }
    }
  }
  const bounded = bound.flatMap((b, i) => (b === null ? [i] : []));
  return { bound, bounded, groups };
}

/** The counts between the models `keep` (ascending indices), as their own PairCounts. */
export function subCounts(counts: PairCounts, keep: readonly number[]): PairCounts {
  const m = counts.models.length;
  const k = keep.length;
  const wins = new Float64Array(k * k);
  const ties = new Float64Array(k * k);
  keep.forEach((i, a) =>
    keep.forEach((j, b) => {
      wins[a * k + b] = counts.wins[i * m + j]!;
      ties[a * k + b] = counts.ties[i * m + j]!;
    }),
  );
  return { models: keep.map((i) => counts.models[i]!), wins, ties };
}

/** One-sided level of the bounds: the same 2.5% as each tail of the bootstrap's 95% interval. */
export const BOUND_TAIL = 0.025;

/**
 * The bound of every open-sided model, on the Elo scale (NaN for the others), given the
 * ratings of the bounded models (`ratings`, per model of the counts; others ignored).
 *
 * For a model that never lost to the rest, the bound is the exact one-sided 97.5% lower
 * confidence limit: the rating at which winning all its battles against rated opponents
 * has probability 2.5% (taking their ratings as known). Below it, such a sweep would be
 * rarer than 1 in 40. It grows with the number of wins — 50 of 50 against one opponent put
 * it 446 above — and claims no more than the battles show at the intervals' level (one
 * pretend loss added would put it 680 above, past what 50 wins can vouch for). A group
 * that only ever won outside keeps its inner gaps (fitted on its own battles) and is moved
 * as one. Opponents that are themselves open above count at their bound (which they exceed,
 * so the limit stays conservative); opponents open below say nothing and are skipped.
 * Never-winning models mirror this with an upper limit.
 */
export function openBounds(counts: PairCounts, separation: Separation, ratings: Float64Array): Float64Array {
  const value = new Float64Array(counts.models.length).fill(NaN);
  for (const i of separation.bounded) value[i] = ratings[i]!;
  // Groups come losers first: a group open above is bounded by ones it beat, already valued.
  for (const group of separation.groups) if (separation.bound[group[0]!] === "upper-open") boundGroup(counts, separation, value, group, +1);
  for (const group of [...separation.groups].reverse()) if (separation.bound[group[0]!] === "lower-open") boundGroup(counts, separation, value, group, -1);
  return value;
}

/**
 * Values one open group: `side` +1 for a lower limit from its wins, −1 for an upper limit from
 * its losses. Battles across groups all go one way (a battle either way joins the groups).
 */
function boundGroup(counts: PairCounts, { bound }: Separation, value: Float64Array, group: number[], side: 1 | -1): void {
  const m = counts.models.length;
  // Groups are ascending, so the inner fit's models line up with `group`.
  const inner = group.length > 1 ? fitBradleyTerry(subCounts(counts, group)).theta : new Float64Array(1);
  const battles: number[] = [];
  const offsets: number[] = [];
  const usable = side > 0 ? "upper-open" : "lower-open";
  group.forEach((i, a) => {
    for (let j = 0; j < m; j++) {
      if (Number.isNaN(value[j]!) || (bound[j] !== null && bound[j] !== usable)) continue;
      const n = side > 0 ? counts.wins[i * m + j]! : counts.wins[j * m + i]!;
      if (n === 0) continue;
      battles.push(n);
      // In nats, the gap the group's shift must clear: P(i beats j) = σ(shift − offset).
      offsets.push(side * (value[j]! / ELO_PER_NAT - inner[a]!));
    }
  });
  if (battles.length === 0) return; // cannot happen: a path to the reference passes a valued group
  const shift = side * sweepShift(battles, offsets, Math.log(BOUND_TAIL));
  group.forEach((i, a) => (value[i] = (inner[a]! + shift) * ELO_PER_NAT));
}

/**
 * The s where Σ n_k·log σ(s − c_k) = target (< 0): the left side rises from −∞ to 0, so
 * bisection on a bracket finds it to the last bits. Deterministic, a few hundred log1p calls.
 */
function sweepShift(battles: readonly number[], offsets: readonly number[], target: number): number {
  const f = (s: number) => battles.reduce((sum, n, k) => sum + n * logSigmoid(s - offsets[k]!), 0) - target;
  const total = battles.reduce((sum, n) => sum + n, 0);
  // At lo every term is below target; at hi the whole sum is above it.
  let lo = Math.min(...offsets) + target - 1;
  let hi = Math.max(...offsets) + Math.log(total) + Math.log(-1 / target) + 1;
  for (let step = 0; step < 200 && hi - lo > 1e-12 * Math.max(1, Math.abs(lo)); step++) {
    const mid = 0.5 * (lo + hi);
    if (f(mid) < 0) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

/** Tarjan's algorithm without recursion on the dense graph `edge`; groups come out sinks first. */
function stronglyConnected(m: number, edge: (i: number, j: number) => boolean): number[][] {
  const index = new Int32Array(m).fill(-1);
  const low = new Int32Array(m);
  const onStack = new Uint8Array(m);
  const next = new Int32Array(m); // the next neighbour to try, per model on the call stack
  const stack: number[] = [];
  const groups: number[][] = [];
  let counter = 0;
  for (let root = 0; root < m; root++) {
    if (index[root]! >= 0) continue;
    const calls = [root];
    index[root] = low[root] = counter++;
    stack.push(root);
    onStack[root] = 1;
    while (calls.length > 0) {
      const v = calls[calls.length - 1]!;
      let w = next[v]!;
      while (w < m && !(w !== v && edge(v, w) && (index[w]! < 0 || onStack[w]))) w++;
      next[v] = w + 1;
      if (w < m) {
        if (index[w]! < 0) {
          index[w] = low[w] = counter++;
          stack.push(w);
          onStack[w] = 1;
          calls.push(w);
        } else low[v] = Math.min(low[v]!, index[w]!);
        continue;
      }
      calls.pop();
      if (calls.length > 0) low[calls[calls.length - 1]!] = Math.min(low[calls[calls.length - 1]!]!, low[v]!);
      if (low[v] === index[v]) {
        const group: number[] = [];
        let x: number;
        do {
          x = stack.pop()!;
          onStack[x] = 0;
          group.push(x);
        } while (x !== v);
        groups.push(group.sort((a, b) => a - b));
      }
    }
  }
  return groups;
}

/** Sets of models joined by battles (in either direction), each ascending. */
function metSets(counts: PairCounts): number[][] {
  const m = counts.models.length;
  const seen = new Uint8Array(m);
  const sets: number[][] = [];
  for (let root = 0; root < m; root++) {
    if (seen[root]) continue;
    const set = [...reachable(m, [root], (i, j) => counts.wins[i * m + j]! + counts.wins[j * m + i]! + counts.ties[i * m + j]! > 0)].flatMap((r, i) => (r ? [i] : []));
    set.forEach((i) => (seen[i] = 1));
    sets.push(set);
  }
  return sets;
}

/** The group of `members` with the most battles inside it; then most battles of its models, most models, first name. */
function referenceGroup(counts: PairCounts, groups: number[][], groupOf: Int32Array, members: number[]): number[] {
  const m = counts.models.length;
  const candidates = [...new Set(members.map((i) => groupOf[i]!))].map((g) => {
    const group = groups[g]!;
    let inside = 0;
    let all = 0;
    for (const i of group) {
      for (let j = 0; j < m; j++) {
        // A battle won counts at its winner; a tie, half at each side.
        const battles = counts.wins[i * m + j]! + 0.5 * counts.ties[i * m + j]!;
        all += battles + counts.wins[j * m + i]! + 0.5 * counts.ties[i * m + j]!;
        if (groupOf[j] === g) inside += battles;
      }
    }
    return { group, key: [inside, all, group.length, -group[0]!] };
  });
  candidates.sort((x, y) => y.key.reduce((d, k, c) => d || k - x.key[c]!, 0));
  return candidates[0]!.group;
}

/** Models reachable from `from` along `edge` (from included). */
function reachable(m: number, from: readonly number[], edge: (i: number, j: number) => boolean): Uint8Array {
  const seen = new Uint8Array(m);
  const queue = [...from];
  from.forEach((i) => (seen[i] = 1));
  while (queue.length > 0) {
    const i = queue.pop()!;
    for (let j = 0; j < m; j++) {
      if (!seen[j] && edge(i, j)) {
        seen[j] = 1;
        queue.push(j);
      }
    }
  }
  return seen;
}

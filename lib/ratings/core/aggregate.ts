import { createHash } from "node:crypto";
import { toVoteTable } from "../vote-table";
import { OUTCOME_A, OUTCOME_B, type PairCounts, type RatedVote, type VoteTable } from "../types";

// Local copies of imported constants: a CommonJS transform turns each read into a getter call.
const A_WON = OUTCOME_A;
const B_WON = OUTCOME_B;

/**
 * Outcome counts of the given votes (all of them, or the rows listed), in one pass: the pivot
 * tables of FastChat's compute_mle_elo (ptbl_a_win, ptbl_tie) or preprocess_for_bt.
 * Models are indexed in name order, so the counts — and every bootstrap drawn from
 * them — do not depend on the order votes arrived in or on which side a model sat.
 */
export function aggregateTable(table: VoteTable, rows?: Int32Array): PairCounts {
  const present = new Uint8Array(table.models.length);
  const count = rows ? rows.length : table.length;
  for (let r = 0; r < count; r++) {
    const v = rows ? rows[r]! : r;
    present[table.modelA[v]!] = 1;
    present[table.modelB[v]!] = 1;
  }
  const ids: number[] = [];
  for (let id = 0; id < present.length; id++) if (present[id]) ids.push(id);
  ids.sort((x, y) => compareNames(table.models[x]!, table.models[y]!));
  const local = new Int32Array(table.models.length).fill(-1);
  ids.forEach((id, i) => (local[id] = i));

  const n = ids.length;
  const wins = new Float64Array(n * n);
  const ties = new Float64Array(n * n);
  for (let r = 0; r < count; r++) {
    const v = rows ? rows[r]! : r;
    const a = local[table.modelA[v]!]!;
    const b = local[table.modelB[v]!]!;
    const outcome = table.outcome[v]!;
    if (outcome === A_WON) wins[a * n + b]++;
    else if (outcome === B_WON) wins[b * n + a]++;
    else {
      ties[a * n + b]++;
      ties[b * n + a]++;
    }
  }
  return { models: ids.map((id) => table.models[id]!), wins, ties };
}

/** Outcome counts of a vote list. */
export function aggregate(votes: readonly RatedVote[]): PairCounts {
  return aggregateTable(toVoteTable(votes));
}

/** Row numbers of each category's votes, in vote order. */
export function rowsByCategory(table: VoteTable): Int32Array[] {
  const sizes = new Int32Array(table.categories.length);
  for (let v = 0; v < table.length; v++) if (table.category[v]! >= 0) sizes[table.category[v]!]++;
  const rows = Array.from(sizes, (size) => new Int32Array(size));
  const fill = new Int32Array(table.categories.length);
  for (let v = 0; v < table.length; v++) {
    const c = table.category[v]!;
    if (c >= 0) rows[c]![fill[c]++] = v;
  }
  return rows;
}

/** Code-unit order: locale-independent, so every machine sorts models the same way. */
export function compareNames(x: string, y: string): number {
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Feeds one scope's nonzero counts into a hash, as JSON-quoted names and counts, one line per pair. */
export function hashCounts(hash: ReturnType<typeof createHash>, label: string, counts: PairCounts): void {
  const { models, wins, ties } = counts;
  const n = models.length;
  // One update with all the lines: the same bytes as one update per line, without a native call per pair.
  const names = models.map((name) => JSON.stringify(name));
  const lines = [`scope\t${JSON.stringify(label)}\n`];
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const wi = wins[i * n + j]!;
      const wj = wins[j * n + i]!;
      const t = ties[i * n + j]!;
      if (wi + wj + t > 0) lines.push(`${names[i]}\t${names[j]}\t${wi}\t${wj}\t${t}\n`);
    }
  }
  hash.update(lines.join(""));
}

import {
  OUTCOME_A,
  OUTCOME_B,
  OUTCOME_BOTH_BAD,
  OUTCOME_TIE,
  type RatedVote,
  type VoteTable,
  type Winner,
} from "./types";

const OUTCOME_BY_WINNER: Record<Winner, number> = {
  A: OUTCOME_A,
  B: OUTCOME_B,
  tie: OUTCOME_TIE,
  both_bad: OUTCOME_BOTH_BAD,
};

/** Appends votes to a growing columnar table; models and categories become integer ids. */
export class VoteTableBuilder {
  readonly models: string[] = [];
  readonly categories: string[] = [];
  private readonly modelIds = new Map<string, number>();
  private readonly categoryIds = new Map<string, number>();
  private modelA = new Int32Array(1024);
  private modelB = new Int32Array(1024);
  private outcome = new Uint8Array(1024);
  private category = new Int32Array(1024);
  /** Vote times while every vote so far has one; null otherwise, or when not asked for. */
  private time: Float64Array | null;
  length = 0;

  /** `timed`: keep a time column, set with timeLast() after each push. */
  constructor(options: { timed?: boolean } = {}) {
    this.time = options.timed ? new Float64Array(1024) : null;
  }

  modelId(name: string): number {
    let id = this.modelIds.get(name);
    if (id === undefined) {
      id = this.models.length;
      this.models.push(name);
      this.modelIds.set(name, id);
    }
    return id;
  }

  categoryId(name: string): number {
    let id = this.categoryIds.get(name);
    if (id === undefined) {
      id = this.categories.length;
      this.categories.push(name);
      this.categoryIds.set(name, id);
    }
    return id;
  }

  /** Adds a vote by ids; `category` is −1 for none. */
  push(a: number, b: number, outcome: number, category: number): void {
    if (this.length === this.modelA.length) this.grow();
    const i = this.length++;
    this.modelA[i] = a;
    this.modelB[i] = b;
    this.outcome[i] = outcome;
    this.category[i] = category;
  }

  /** The time of the vote just pushed; NaN (no time) drops the column for good. */
  timeLast(time: number): void {
    if (this.time === null) return;
    if (Number.isNaN(time)) this.time = null;
    else this.time[this.length - 1] = time;
  }

  build(): VoteTable {
    const n = this.length;
    const table: VoteTable = {
      models: this.models,
      categories: this.categories,
      modelA: this.modelA.subarray(0, n),
      modelB: this.modelB.subarray(0, n),
      outcome: this.outcome.subarray(0, n),
      category: this.category.subarray(0, n),
      length: n,
    };
    if (this.time) table.time = this.time.subarray(0, n);
    return table;
  }

  private grow(): void {
    const size = this.modelA.length * 2;
    const grown = <T extends Int32Array | Uint8Array | Float64Array>(old: T, fresh: T): T => {
      fresh.set(old);
      return fresh;
    };
    this.modelA = grown(this.modelA, new Int32Array(size));
    this.modelB = grown(this.modelB, new Int32Array(size));
    this.outcome = grown(this.outcome, new Uint8Array(size));
    this.category = grown(this.category, new Int32Array(size));
    if (this.time) this.time = grown(this.time, new Float64Array(size));
  }
}

/** Columnar copy of a vote list; throws on a vote that cannot be rated. */
export function toVoteTable(votes: readonly RatedVote[]): VoteTable {
  const builder = new VoteTableBuilder();
  votes.forEach((vote, i) => {
    const outcome = Object.hasOwn(OUTCOME_BY_WINNER, vote.winner) ? OUTCOME_BY_WINNER[vote.winner] : undefined;
    if (outcome === undefined) throw new Error(`vote ${i}: unknown winner ${JSON.stringify(vote.winner)}`);
    if (vote.modelA === vote.modelB) throw new Error(`vote ${i}: both sides are ${vote.modelA}`);
    const category = vote.category == null ? -1 : builder.categoryId(vote.category);
    builder.push(builder.modelId(vote.modelA), builder.modelId(vote.modelB), outcome, category);
  });
  return builder.build();
}

export { OUTCOME_BY_WINNER };

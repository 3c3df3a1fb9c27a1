import { STYLE_COUNTS } from "./style-counts";
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
  /** Style counts, STYLE_COUNTS per vote, when asked for. */
  private style: Float64Array | null;
  length = 0;

  /** `timed`: keep a time column, set with timeLast() after each push; `styled`: style counts, set with styleLast(). */
  constructor(options: { timed?: boolean; styled?: boolean } = {}) {
    this.time = options.timed ? new Float64Array(1024) : null;
    this.style = options.styled ? new Float64Array(1024 * STYLE_COUNTS) : null;
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

  /** The style counts of the vote just pushed (callers reject votes without them). */
  styleLast(counts: ArrayLike<number>): void {
    if (this.style === null) return;
    const at = (this.length - 1) * STYLE_COUNTS;
    for (let k = 0; k < STYLE_COUNTS; k++) this.style[at + k] = counts[k]!;
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
    if (this.style) table.style = this.style.subarray(0, n * STYLE_COUNTS);
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
    if (this.style) this.style = grown(this.style, new Float64Array(size * STYLE_COUNTS));
  }
}

/** Columnar copy of a vote list; throws on a vote that cannot be rated. */
export function toVoteTable(votes: readonly RatedVote[]): VoteTable {
  const styled = votes.length > 0 && votes.every((vote) => vote.style);
  const builder = new VoteTableBuilder({ styled });
  votes.forEach((vote, i) => {
    const outcome = Object.hasOwn(OUTCOME_BY_WINNER, vote.winner) ? OUTCOME_BY_WINNER[vote.winner] : undefined;
    if (outcome === undefined) throw new Error(`vote ${i}: unknown winner ${JSON.stringify(vote.winner)}`);
    if (vote.modelA === vote.modelB) throw new Error(`vote ${i}: both sides are ${vote.modelA}`);
    const category = vote.category == null ? -1 : builder.categoryId(vote.category);
    builder.push(builder.modelId(vote.modelA), builder.modelId(vote.modelB), outcome, category);
    if (styled) builder.styleLast([...vote.style!.a, ...vote.style!.b]);
  });
  return builder.build();
}

export { OUTCOME_BY_WINNER };

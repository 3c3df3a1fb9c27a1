// Who fights whom. The first model is drawn by weight, the rival by weight among the rest,
// then sides are swapped at random so position says nothing about the draw.

export type Contender = { id: string; battleWeight: number; battles: number };

export class NotEnoughModelsError extends Error {
  constructor(readonly eligible: number) {
    super(`A battle needs two eligible models; ${eligible} available.`);
    this.name = "NotEnoughModelsError";
  }
}

/**
 * The admin's battle weight, boosted for models with few battles so a new model gets
 * enough comparisons to be rated: ×4 at 0 battles, ×2.5 at 50, ×1.3 at 500, → ×1.
 */
export function drawWeight(c: Contender): number {
  if (!(c.battleWeight > 0)) return 0;
  return c.battleWeight * (1 + 3 / (1 + c.battles / 50));
}

export function drawOne<T extends Contender>(pool: readonly T[], random: () => number): T {
  const weights = pool.map(drawWeight);
  const total = weights.reduce((s, w) => s + w, 0);
  let r = random() * total;
  for (let i = 0; i < pool.length; i++) {
    r -= weights[i]!;
    if (r < 0) return pool[i]!;
  }
  return pool[pool.length - 1]!;
}

export function pickPair<T extends Contender>(contenders: readonly T[], random: () => number = Math.random): { a: T; b: T } {
  const eligible = contenders.filter((c) => drawWeight(c) > 0);
  if (eligible.length < 2) throw new NotEnoughModelsError(eligible.length);
  const first = drawOne(eligible, random);
  const second = drawOne(eligible.filter((c) => c.id !== first.id), random);
  return random() < 0.5 ? { a: first, b: second } : { a: second, b: first };
}

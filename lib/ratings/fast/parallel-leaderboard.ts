/**
 * Fast path: a whole rating run on two threads (the CLI's path). Speeds up the compute column of bench/ratings-bench.ts (bench/results/ratings-*.json
 * and ratings-style-*.json) on a machine with a second core; the result is
 * core/leaderboard.ts's computeLeaderboardFromTable bit for bit (test/unit/ratings/
 * parallel-bootstrap.test.ts and style-control.test.ts compare the two).
 */
import type { BootstrapResult } from "../core/bootstrap";
import { assemble, bootstrapOptions, planScopes, planStyles, styleOptions } from "../core/leaderboard";
import type { Leaderboard, LeaderboardOptions, VoteTable } from "../types";
import { bootstrapAside, bootstrapParallel } from "./parallel-bootstrap";
import { styleBootstrapParallel, StyleFitHelper } from "./parallel-style";
import type { StyleBootstrapResult } from "./style-rounds";
import type { ThreadOptions } from "./threads";

/**
 * computeLeaderboardFromTable with the bootstrap rounds split over threads; the same result,
 * bit for bit. With style control, the overall scope's plain rounds run on a worker while
 * this thread fits the style-controlled models (the longest part that cannot be split).
 */
export async function computeLeaderboardParallel(table: VoteTable, options: LeaderboardOptions, parallel: ThreadOptions): Promise<Leaderboard> {
  const plan = planScopes(table, options);
  const overall = plan.scopes[0]!;
  const aside = options.styleControl && plan.rounds > 0 ? bootstrapAside(overall.rated, bootstrapOptions(plan, overall), parallel) : undefined;
  if (options.styleControl) {
    const helper = StyleFitHelper.start(parallel);
    try {
      planStyles(table, plan, helper ? (data, fitOptions) => helper.fit(data, fitOptions) : undefined);
    } finally {
      helper?.close();
    }
  }
  const cis: (BootstrapResult | undefined)[] = [];
  for (const scope of plan.scopes) {
    if (plan.rounds === 0) cis.push(undefined);
    else cis.push(scope === overall && aside ? await aside : await bootstrapParallel(scope.rated, bootstrapOptions(plan, scope), parallel));
  }
  const styleCis: (StyleBootstrapResult | undefined)[] = [];
  for (const scope of plan.scopes) styleCis.push(scope.style && plan.rounds > 0 ? await styleBootstrapParallel(scope.style.data, scope.style.fit, styleOptions(plan, scope), parallel) : undefined);
  return assemble(table, plan, cis, styleCis);
}

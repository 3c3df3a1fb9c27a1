import { NextResponse } from "next/server";
import { getLeaderboardView } from "@/lib/arena/leaderboard-view";
import { route } from "@/lib/http";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/**
 * The latest rating run as the leaderboard lists it: per scope `ranked` and `provisional`
 * (rank null), and `models` = both in that order for clients that read one list.
 */
export const GET = route(async () => {
  const run = await getLeaderboardView();
  return NextResponse.json(run ?? { leaderboard: null });
});

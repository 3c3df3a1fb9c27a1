import { NextResponse } from "next/server";
import { getLatestRatingRun } from "@/lib/arena/ratings-job";
import { route } from "@/lib/http";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

export const GET = route(async () => {
  const run = await getLatestRatingRun();
  return NextResponse.json(run ?? { leaderboard: null });
});

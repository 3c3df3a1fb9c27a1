import { NextResponse } from "next/server";
import { castVote, voteInput } from "@/lib/arena/votes";
import { errors } from "@/lib/errors";
import { parseJson, route } from "@/lib/http";
import { resolveVoter } from "@/lib/voter";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

// The production server answers anonymous votes without Next.js (lib/web/vote-fast-path.ts);
// this handler serves signed-in voters and `next dev`.
export const POST = route(async (request: Request, { params }: { params: Promise<{ id: string }> }) => {
  const { id } = await params;
  const input = await parseJson(request, voteInput);
  const voter = await resolveVoter({ issueCookie: false });
  if (!voter) throw errors.forbidden("vote", { key: "voteNotYours" });
  return NextResponse.json(await castVote({ battleId: id, voter, winner: input.winner, reason: input.reason || null }));
});

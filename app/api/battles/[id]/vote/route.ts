import { NextResponse } from "next/server";
import { z } from "zod";
import { castVote } from "@/lib/arena/votes";
import { errors } from "@/lib/errors";
import { parseJson, route } from "@/lib/http";
import { resolveVoter } from "@/lib/voter";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

const body = z.object({
  winner: z.enum(["A", "B", "tie", "both_bad"]),
  reason: z.string().trim().max(280, "reason: at most 280 characters").optional(),
});

export const POST = route(async (request: Request, { params }: { params: Promise<{ id: string }> }) => {
  const { id } = await params;
  const input = await parseJson(request, body);
  const voter = await resolveVoter({ issueCookie: false });
  if (!voter) throw errors.forbidden("vote", "Only the voter who started this battle can vote on it.");
  return NextResponse.json(await castVote({ battleId: id, voter, winner: input.winner, reason: input.reason || null }));
});

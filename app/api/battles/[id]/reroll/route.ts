import { NextResponse } from "next/server";
import { z } from "zod";
import { rerollBattleSide } from "@/lib/arena/reroll";
import { errors } from "@/lib/errors";
import { parseJson, route } from "@/lib/http";
import { resolveVoter } from "@/lib/voter";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

// A battle has at most 8 turns (lib/arena/battles.ts).
const body = z.object({ side: z.enum(["A", "B"]), turn: z.number().int().min(0).max(7) });

// A fresh answer for a side that failed for good or stalled. The answer names the side and
// turn only: which model answers again stays on the server.
export const POST = route(async (request: Request, { params }: { params: Promise<{ id: string }> }) => {
  const { id } = await params;
  const input = await parseJson(request, body);
  const voter = await resolveVoter({ issueCookie: false });
  if (!voter) throw errors.forbidden("battle", { key: "battleNotYours" });
  return NextResponse.json(await rerollBattleSide({ battleId: id, voter, side: input.side, turn: input.turn }), { status: 201 });
});

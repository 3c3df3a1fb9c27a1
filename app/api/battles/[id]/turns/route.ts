import { NextResponse } from "next/server";
import { z } from "zod";
import { addBattleTurn } from "@/lib/arena/battles";
import { errors } from "@/lib/errors";
import { parseJson, route } from "@/lib/http";
import { resolveVoter } from "@/lib/voter";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

const body = z.object({ prompt: z.string() });

export const POST = route(async (request: Request, { params }: { params: Promise<{ id: string }> }) => {
  const { id } = await params;
  const input = await parseJson(request, body);
  const voter = await resolveVoter({ issueCookie: false });
  if (!voter) throw errors.forbidden("battle", { key: "battleNotYours" });
  return NextResponse.json(await addBattleTurn({ battleId: id, voter, prompt: input.prompt }), { status: 201 });
});

import { NextResponse } from "next/server";
import { getBattleView } from "@/lib/arena/battle-view";
import { route } from "@/lib/http";
import { resolveVoter } from "@/lib/voter";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

export const GET = route(async (_request: Request, { params }: { params: Promise<{ id: string }> }) => {
  const { id } = await params;
  const voter = await resolveVoter({ issueCookie: false });
  return NextResponse.json(await getBattleView({ battleId: id, voter }));
});

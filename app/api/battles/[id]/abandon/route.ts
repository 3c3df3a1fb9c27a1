import { NextResponse } from "next/server";
import { abandonBattle } from "@/lib/arena/battles";
import { errors } from "@/lib/errors";
import { route } from "@/lib/http";
import { resolveVoter } from "@/lib/voter";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

// The voter leaves this battle for a new one: it is never voted on, so never rated.
export const POST = route(async (_request: Request, { params }: { params: Promise<{ id: string }> }) => {
  const { id } = await params;
  const voter = await resolveVoter({ issueCookie: false });
  if (!voter) throw errors.forbidden("battle", { key: "battleNotYours" });
  return NextResponse.json(await abandonBattle({ battleId: id, voter }));
});

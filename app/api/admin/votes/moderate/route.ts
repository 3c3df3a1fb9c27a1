import { NextResponse } from "next/server";
import { requireAdmin } from "@/lib/auth/session";
import { moderateVotes, moderationSchema } from "@/lib/admin/votes";
import { parseJson, route } from "@/lib/http";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/** Invalidate or restore votes, by ids or by filter, with a reason. */
export const POST = route(async (request: Request) => {
  const admin = await requireAdmin();
  const moderation = await parseJson(request, moderationSchema);
  return NextResponse.json(await moderateVotes({ moderation, actorId: admin.id }));
});

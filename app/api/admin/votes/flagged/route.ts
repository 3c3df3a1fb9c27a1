import { NextResponse } from "next/server";
import { requireAdmin } from "@/lib/auth/session";
import { flaggedVoters } from "@/lib/admin/votes";
import { route } from "@/lib/http";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

export const GET = route(async () => {
  await requireAdmin();
  return NextResponse.json({ voters: await flaggedVoters() });
});

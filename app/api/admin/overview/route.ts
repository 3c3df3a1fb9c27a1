import { NextResponse } from "next/server";
import { getAdminOverview } from "@/lib/admin/overview";
import { requireAdmin } from "@/lib/auth/session";
import { route } from "@/lib/http";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

export const GET = route(async () => {
  await requireAdmin();
  return NextResponse.json(await getAdminOverview());
});

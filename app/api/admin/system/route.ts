import { NextResponse } from "next/server";
import { requireAdmin } from "@/lib/auth/session";
import { getSystemStatus } from "@/lib/admin/system";
import { route } from "@/lib/http";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

export const GET = route(async () => {
  await requireAdmin();
  return NextResponse.json(await getSystemStatus());
});

import { NextResponse } from "next/server";
import { requireAdmin } from "@/lib/auth/session";
import { getJudgeRunView } from "@/lib/admin/judge";
import { route } from "@/lib/http";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

export const GET = route(async (_request: Request, { params }: { params: Promise<{ id: string }> }) => {
  await requireAdmin();
  const { id } = await params;
  return NextResponse.json({ run: await getJudgeRunView({ id }) });
});

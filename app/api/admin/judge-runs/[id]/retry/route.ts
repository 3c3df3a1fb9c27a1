import { NextResponse } from "next/server";
import { requireAdmin } from "@/lib/auth/session";
import { retryJudgeRunAudited } from "@/lib/admin/judge";
import { route } from "@/lib/http";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

export const POST = route(async (_request: Request, { params }: { params: Promise<{ id: string }> }) => {
  const admin = await requireAdmin();
  const { id } = await params;
  return NextResponse.json(await retryJudgeRunAudited({ id, actorId: admin.id }));
});

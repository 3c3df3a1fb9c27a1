import { NextResponse } from "next/server";
import { requireAdmin } from "@/lib/auth/session";
import { cancelJudgeRunAudited } from "@/lib/admin/judge";
import { route } from "@/lib/http";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

export const POST = route(async (_request: Request, { params }: { params: Promise<{ id: string }> }) => {
  const admin = await requireAdmin();
  const { id } = await params;
  await cancelJudgeRunAudited({ id, actorId: admin.id });
  return NextResponse.json({ ok: true });
});

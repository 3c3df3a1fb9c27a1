import { NextResponse } from "next/server";
import { requireAdmin } from "@/lib/auth/session";
import { listJudgeRuns, startJudgeRunAudited, startJudgeRunSchema } from "@/lib/admin/judge";
import { parseJson, route } from "@/lib/http";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

export const GET = route(async () => {
  await requireAdmin();
  return NextResponse.json({ runs: await listJudgeRuns() });
});

export const POST = route(async (request: Request) => {
  const admin = await requireAdmin();
  const input = await parseJson(request, startJudgeRunSchema);
  return NextResponse.json(await startJudgeRunAudited({ input, actorId: admin.id }), { status: 201 });
});

import { NextResponse } from "next/server";
import { requireAdmin } from "@/lib/auth/session";
import { listPregenRuns, startPregenRuns, startPregenSchema } from "@/lib/admin/pregen";
import { parseJson, route } from "@/lib/http";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

export const GET = route(async () => {
  await requireAdmin();
  return NextResponse.json({ runs: await listPregenRuns() });
});

export const POST = route(async (request: Request) => {
  const admin = await requireAdmin();
  const input = await parseJson(request, startPregenSchema);
  return NextResponse.json(await startPregenRuns({ input, actorId: admin.id }), { status: 201 });
});

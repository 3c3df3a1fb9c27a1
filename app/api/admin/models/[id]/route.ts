import { NextResponse } from "next/server";
import { requireAdmin } from "@/lib/auth/session";
import { parseJson, route } from "@/lib/http";
import { currentLang } from "@/lib/lang-server";
import { getAdminModel, modelInputSchema, savedIn, updateModel } from "@/lib/models/admin";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

type Ctx = { params: Promise<{ id: string }> };

export const GET = route(async (_request: Request, { params }: Ctx) => {
  await requireAdmin();
  const { id } = await params;
  return NextResponse.json({ model: await getAdminModel({ id }) });
});

export const PUT = route(async (request: Request, { params }: Ctx) => {
  const admin = await requireAdmin();
  const { id } = await params;
  await getAdminModel({ id }); // 404 before 400: an unknown model is the first thing to report
  const input = await parseJson(request, modelInputSchema);
  return NextResponse.json(savedIn(await currentLang(), await updateModel({ id, input, actorId: admin.id })));
});

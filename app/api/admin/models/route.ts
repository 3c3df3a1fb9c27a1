import { NextResponse } from "next/server";
import { requireAdmin } from "@/lib/auth/session";
import { parseJson, route } from "@/lib/http";
import { currentLang } from "@/lib/lang-server";
import { createModel, listAdminModels, modelInputSchema, savedIn } from "@/lib/models/admin";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

export const GET = route(async () => {
  await requireAdmin();
  return NextResponse.json({ models: await listAdminModels() });
});

export const POST = route(async (request: Request) => {
  const admin = await requireAdmin();
  const input = await parseJson(request, modelInputSchema);
  return NextResponse.json(savedIn(await currentLang(), await createModel({ input, actorId: admin.id })), { status: 201 });
});

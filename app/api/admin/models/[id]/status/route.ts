import { NextResponse } from "next/server";
import { z } from "zod";
import { requireAdmin } from "@/lib/auth/session";
import { parseJson, route } from "@/lib/http";
import { currentLang } from "@/lib/lang-server";
import { getAdminModel, modelStatusSchema, savedIn, setModelStatus } from "@/lib/models/admin";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

const body = z.object({ status: modelStatusSchema });

export const POST = route(async (request: Request, { params }: { params: Promise<{ id: string }> }) => {
  const admin = await requireAdmin();
  const { id } = await params;
  await getAdminModel({ id });
  const { status } = await parseJson(request, body);
  return NextResponse.json(savedIn(await currentLang(), await setModelStatus({ id, status, actorId: admin.id })));
});

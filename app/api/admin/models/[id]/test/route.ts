import { NextResponse } from "next/server";
import { z } from "zod";
import { requireAdmin } from "@/lib/auth/session";
import { parseJson, route } from "@/lib/http";
import { defaultTestPrompt, startModelTest } from "@/lib/admin/model-test";
import { currentLang } from "@/lib/lang-server";
import { getAdminModel } from "@/lib/models/admin";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

const body = z.object({ prompt: z.string().trim().min(1).max(4000).optional() });

export const POST = route(async (request: Request, { params }: { params: Promise<{ id: string }> }) => {
  const admin = await requireAdmin();
  const { id } = await params;
  await getAdminModel({ id });
  const { prompt = defaultTestPrompt(await currentLang()) } = await parseJson(request, body);
  return NextResponse.json(await startModelTest({ modelId: id, prompt, actorId: admin.id }), { status: 201 });
});

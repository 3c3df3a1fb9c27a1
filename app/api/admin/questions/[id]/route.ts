import { NextResponse } from "next/server";
import { requireAdmin } from "@/lib/auth/session";
import { deleteQuestion, getQuestion, questionPatchSchema, updateQuestion } from "@/lib/admin/questions";
import { parseJson, route } from "@/lib/http";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

type Ctx = { params: Promise<{ id: string }> };

export const GET = route(async (_request: Request, { params }: Ctx) => {
  await requireAdmin();
  const { id } = await params;
  return NextResponse.json({ question: await getQuestion({ id }) });
});

/** Partial edit: any of text, category, language, tags, id, active (deactivate = {active: false}). */
export const PATCH = route(async (request: Request, { params }: Ctx) => {
  const admin = await requireAdmin();
  const { id } = await params;
  await getQuestion({ id });
  const input = await parseJson(request, questionPatchSchema);
  return NextResponse.json({ question: await updateQuestion({ id, input, actorId: admin.id }) });
});

export const DELETE = route(async (_request: Request, { params }: Ctx) => {
  const admin = await requireAdmin();
  const { id } = await params;
  await deleteQuestion({ id, actorId: admin.id });
  return NextResponse.json({ ok: true });
});

import { NextResponse } from "next/server";
import { requireAdmin } from "@/lib/auth/session";
import { categoryInputSchema, deleteCategory, getCategory, updateCategory } from "@/lib/admin/categories";
import { parseJson, route } from "@/lib/http";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

type Ctx = { params: Promise<{ id: string }> };

export const PUT = route(async (request: Request, { params }: Ctx) => {
  const admin = await requireAdmin();
  const { id } = await params;
  await getCategory({ id });
  const input = await parseJson(request, categoryInputSchema);
  return NextResponse.json({ category: await updateCategory({ id, input, actorId: admin.id }) });
});

export const DELETE = route(async (_request: Request, { params }: Ctx) => {
  const admin = await requireAdmin();
  const { id } = await params;
  await deleteCategory({ id, actorId: admin.id });
  return NextResponse.json({ ok: true });
});

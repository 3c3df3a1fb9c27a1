import { NextResponse } from "next/server";
import { requireAdmin } from "@/lib/auth/session";
import { categoryInputSchema, createCategory, listCategories } from "@/lib/admin/categories";
import { parseJson, route } from "@/lib/http";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

export const GET = route(async () => {
  await requireAdmin();
  return NextResponse.json({ categories: await listCategories() });
});

export const POST = route(async (request: Request) => {
  const admin = await requireAdmin();
  const input = await parseJson(request, categoryInputSchema);
  return NextResponse.json({ category: await createCategory({ input, actorId: admin.id }) }, { status: 201 });
});

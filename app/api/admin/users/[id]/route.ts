import { NextResponse } from "next/server";
import { requireAdmin } from "@/lib/auth/session";
import { changeUser, getAdminUser, userChangeSchema } from "@/lib/admin/users";
import { parseJson, route } from "@/lib/http";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/** {role: "admin" | "voter"} promotes or demotes; {disabled: boolean} disables or enables. */
export const PATCH = route(async (request: Request, { params }: { params: Promise<{ id: string }> }) => {
  const admin = await requireAdmin();
  const { id } = await params;
  await getAdminUser({ id });
  const change = await parseJson(request, userChangeSchema);
  return NextResponse.json({ user: await changeUser({ id, change, actorId: admin.id }) });
});

import { NextResponse } from "next/server";
import { requireAdmin } from "@/lib/auth/session";
import { resetPasswordByAdmin } from "@/lib/admin/users";
import { route } from "@/lib/http";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/** A temporary password, shown once; the user must replace it at the next sign-in. */
export const POST = route(async (_request: Request, { params }: { params: Promise<{ id: string }> }) => {
  const admin = await requireAdmin();
  const { id } = await params;
  const { user, temporaryPassword } = await resetPasswordByAdmin({ id, actorId: admin.id });
  return NextResponse.json({ user, temporaryPassword }, { headers: { "cache-control": "no-store" } });
});

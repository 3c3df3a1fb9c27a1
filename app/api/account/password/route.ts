import { NextResponse } from "next/server";
import { z } from "zod";
import { requireUser } from "@/lib/auth/session";
import { parseJson, route } from "@/lib/http";
import { changeOwnPassword, newPasswordSchema } from "@/lib/users";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

const body = z.object({ currentPassword: z.string().min(1, "required").max(200), newPassword: newPasswordSchema });

/** The signed-in user's own password. */
export const POST = route(async (request: Request) => {
  const user = await requireUser();
  const { currentPassword, newPassword } = await parseJson(request, body);
  await changeOwnPassword({ userId: user.id, currentPassword, newPassword });
  return NextResponse.json({ ok: true });
});

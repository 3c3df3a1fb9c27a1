import { NextResponse } from "next/server";
import { z } from "zod";
import { requireAdmin } from "@/lib/auth/session";
import { createUserByAdmin, listUsers, newUserSchema } from "@/lib/admin/users";
import { parseJson, parseQuery, route } from "@/lib/http";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

const query = z.object({ q: z.string().max(200).optional() });

export const GET = route(async (request: Request) => {
  await requireAdmin();
  return NextResponse.json({ users: await listUsers(parseQuery(request, query)) });
});

/** {email, role}: a new account with a temporary password, shown once. */
export const POST = route(async (request: Request) => {
  const admin = await requireAdmin();
  const input = await parseJson(request, newUserSchema);
  const { user, temporaryPassword } = await createUserByAdmin({ input, actorId: admin.id });
  return NextResponse.json({ user, temporaryPassword }, { status: 201, headers: { "cache-control": "no-store" } });
});

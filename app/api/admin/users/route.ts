import { NextResponse } from "next/server";
import { z } from "zod";
import { requireAdmin } from "@/lib/auth/session";
import { listUsers } from "@/lib/admin/users";
import { parseQuery, route } from "@/lib/http";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

const query = z.object({ q: z.string().max(200).optional() });

export const GET = route(async (request: Request) => {
  await requireAdmin();
  return NextResponse.json({ users: await listUsers(parseQuery(request, query)) });
});

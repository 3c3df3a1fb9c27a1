import { NextResponse } from "next/server";
import { z } from "zod";
import { requireAdmin } from "@/lib/auth/session";
import { listVotes, voteFilterFromQuery } from "@/lib/admin/votes";
import { route } from "@/lib/http";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

const page = z.coerce.number().int().min(1).default(1);

export const GET = route(async (request: Request) => {
  await requireAdmin();
  const params = Object.fromEntries(new URL(request.url).searchParams);
  const { page: rawPage, ...rest } = params;
  return NextResponse.json(await listVotes({ filter: voteFilterFromQuery(rest), page: page.parse(rawPage) }));
});

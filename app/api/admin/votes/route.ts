import { NextResponse } from "next/server";
import { z } from "zod";
import { requireAdmin } from "@/lib/auth/session";
import { listVotes, voteFilterFromQuery } from "@/lib/admin/votes";
import { queryOf, route } from "@/lib/http";
import { queryInt } from "@/lib/input";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

const pageQuery = z.object({ page: queryInt({ min: 1 }).default(1) });

export const GET = route(async (request: Request) => {
  await requireAdmin();
  const { page, ...rest } = queryOf(request);
  return NextResponse.json(await listVotes({ filter: voteFilterFromQuery(rest), page: pageQuery.parse({ page }).page }));
});

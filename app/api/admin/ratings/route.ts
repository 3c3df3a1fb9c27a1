import { NextResponse } from "next/server";
import { z } from "zod";
import { requireAdmin } from "@/lib/auth/session";
import { ratingsStatus, recomputeRatings } from "@/lib/admin/ratings";
import { parseQuery, route } from "@/lib/http";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

const query = z.object({ jobId: z.string().min(1).optional() });

/** The latest rating run, and the state of a recompute job when jobId is given. */
export const GET = route(async (request: Request) => {
  await requireAdmin();
  const { jobId } = parseQuery(request, query);
  return NextResponse.json(await ratingsStatus({ jobId }));
});

/** Enqueues a full recompute (after moderation); poll GET with the returned jobId. */
export const POST = route(async () => {
  const admin = await requireAdmin();
  return NextResponse.json(await recomputeRatings({ actorId: admin.id }), { status: 201 });
});

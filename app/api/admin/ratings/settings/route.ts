import { NextResponse } from "next/server";
import { requireAdmin } from "@/lib/auth/session";
import { ratingSettingsOverview, updateRatingSettings } from "@/lib/admin/ratings";
import { ratingSettingsInput } from "@/lib/arena/rating-settings";
import { parseJson, route } from "@/lib/http";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/** The rating settings, the models to anchor on, and the scale and de-duplication of the latest run. */
export const GET = route(async () => {
  await requireAdmin();
  return NextResponse.json(await ratingSettingsOverview());
});

/** Saves anchor, de-duplication threshold and the battles before a model is ranked, and enqueues a recompute (its jobId to poll). */
export const PUT = route(async (request: Request) => {
  const admin = await requireAdmin();
  const input = await parseJson(request, ratingSettingsInput);
  return NextResponse.json(await updateRatingSettings({ actorId: admin.id, input }));
});

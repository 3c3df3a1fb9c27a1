import { NextResponse } from "next/server";
import { arenaSettingsForAdmin, updateArenaSettings } from "@/lib/admin/arena-settings";
import { arenaSettingsInput } from "@/lib/arena/arena-settings";
import { requireAdmin } from "@/lib/auth/session";
import { parseJson, route } from "@/lib/http";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/** The arena settings: publication of live prompts and answers, limits on live generation. */
export const GET = route(async () => {
  await requireAdmin();
  return NextResponse.json({ settings: await arenaSettingsForAdmin() });
});

/** Saves every field at once; a 400 names the first field that is out of bounds. */
export const PUT = route(async (request: Request) => {
  const admin = await requireAdmin();
  const input = await parseJson(request, arenaSettingsInput);
  return NextResponse.json(await updateArenaSettings({ actorId: admin.id, input }));
});

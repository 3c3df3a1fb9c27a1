import { NextResponse } from "next/server";
import { z } from "zod";
import { importBattles } from "@/lib/arena/battle-import";
import { recordAudit } from "@/lib/audit";
import { requireAdmin } from "@/lib/auth/session";
import { errors } from "@/lib/errors";
import { parseQuery, route } from "@/lib/http";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

const MAX_MB = 200;
const MAX_BYTES = MAX_MB * 1024 * 1024;
const query = z.object({ dryRun: z.enum(["0", "1"]).default("1") });

/** POST the JSONL as the body; ?dryRun=0 writes it (all or nothing) when the report is clean. */
export const POST = route(async (request: Request) => {
  const admin = await requireAdmin();
  const { dryRun } = parseQuery(request, query);
  const bytes = new Uint8Array(await request.arrayBuffer());
  if (bytes.byteLength > MAX_BYTES) throw errors.badRequest("import", { key: "uploadTooLarge", values: { mb: MAX_MB } }, "file");
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw errors.badRequest("import", { key: "fileNotUtf8" }, "file");
  }
  const report = await importBattles({ text, dryRun: dryRun === "1" });
  if (report.written) {
    await recordAudit({ actorId: admin.id, action: "battles.import", targetType: "battle", after: { rows: report.rows, newModels: report.newModels } });
  }
  return NextResponse.json(report, { status: report.ok ? 200 : 400 });
});

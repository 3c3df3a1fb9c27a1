import { NextResponse } from "next/server";
import { z } from "zod";
import { requireAdmin } from "@/lib/auth/session";
import { IMPORT_LIMITS, importQuestions } from "@/lib/admin/questions-import";
import { readUpload } from "@/lib/admin/upload";
import { errorPayload, errors } from "@/lib/errors";
import { parseQuery, route } from "@/lib/http";
import { currentLang } from "@/lib/lang-server";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

const query = z.object({
  format: z.enum(["csv", "jsonl"], { error: "format must be csv or jsonl" }),
  dryRun: z.enum(["1", "0", "true", "false"]).default("1").transform((v) => v === "1" || v === "true"),
});

// The file is the raw request body (UTF-8). A dry run (the default) only reports; a real
// import refuses any file with errors (400 with the report) and otherwise writes it all at once.
export const POST = route(async (request: Request) => {
  const admin = await requireAdmin();
  const { format, dryRun } = parseQuery(request, query);
  const bytes = await readUpload(request, IMPORT_LIMITS.maxBytes);
  const report = await importQuestions({ bytes, format, dryRun, actorId: admin.id });
  if (!dryRun && report.errorCount > 0) {
    const { body } = errorPayload(errors.badRequest("import", { key: "importRefused", values: { n: report.errorCount } }), await currentLang());
    return NextResponse.json({ ...body, report }, { status: 400 });
  }
  return NextResponse.json({ report }, { status: dryRun ? 200 : 201 });
});

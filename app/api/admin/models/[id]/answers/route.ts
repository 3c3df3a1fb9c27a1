import { NextResponse } from "next/server";
import { z } from "zod";
import { requireAdmin } from "@/lib/auth/session";
import { answerExportFilename, exportAnswers, importAnswers, parseAnswerSource } from "@/lib/admin/answers-import";
import { IMPORT_LIMITS } from "@/lib/admin/questions-import";
import { readUpload } from "@/lib/admin/upload";
import { errorPayload, errors } from "@/lib/errors";
import { parseQuery, route } from "@/lib/http";
import { currentLang } from "@/lib/lang-server";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

type Ctx = { params: Promise<{ id: string }> };

const flag = z.enum(["1", "0", "true", "false"]).transform((v) => v === "1" || v === "true");

const importQuery = z.object({
  format: z.enum(["csv", "jsonl"], { error: "format must be csv or jsonl" }).default("jsonl"),
  dryRun: flag.default(false),
  createQuestions: flag.default(false),
  /** Where the answers came from, a JSON object: { engine, quantisation, temperature, ... }. */
  source: z.string().optional(),
});

const exportQuery = z.object({ format: z.enum(["csv", "jsonl"], { error: "format must be csv or jsonl" }).default("jsonl") });

// An offline model's answer set: the file is the raw request body (UTF-8). With dryRun=1 it only
// reports; without, a file with any error is refused (400 with the report) and otherwise becomes
// the model's next answer set version, all at once.
export const POST = route(async (request: Request, { params }: Ctx) => {
  const admin = await requireAdmin();
  const { id } = await params;
  const { format, dryRun, createQuestions, source } = parseQuery(request, importQuery);
  const sourceObject = parseAnswerSource(source);
  const bytes = await readUpload(request, IMPORT_LIMITS.maxBytes);
  const report = await importAnswers({ modelId: id, bytes, format, dryRun, createQuestions, source: sourceObject, actorId: admin.id });
  if (!dryRun && report.errorCount > 0) {
    const { body } = errorPayload(errors.badRequest("answers", { key: "importRefused", values: { n: report.errorCount } }), await currentLang());
    return NextResponse.json({ ...body, report }, { status: 400 });
  }
  return NextResponse.json({ report }, { status: dryRun ? 200 : 201 });
});

// Any model's latest completed bank answers, in the format the import reads.
export const GET = route(async (request: Request, { params }: Ctx) => {
  await requireAdmin();
  const { id } = await params;
  const { format } = parseQuery(request, exportQuery);
  const body = await exportAnswers({ modelId: id, format });
  return new Response(body, {
    headers: {
      "content-type": format === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8",
      "content-disposition": `attachment; filename="${await answerExportFilename({ modelId: id, format })}"`,
    },
  });
});

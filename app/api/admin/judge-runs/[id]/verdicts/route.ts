import { requireAdmin } from "@/lib/auth/session";
import { exportVerdicts } from "@/lib/admin/judge";
import { errors } from "@/lib/errors";
import { route } from "@/lib/http";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/** The run's verdicts as JSON lines (?format=jsonl, the only format). */
export const GET = route(async (request: Request, { params }: { params: Promise<{ id: string }> }) => {
  await requireAdmin();
  const { id } = await params;
  const format = new URL(request.url).searchParams.get("format") ?? "jsonl";
  if (format !== "jsonl") throw errors.badRequest("judge", "Only format=jsonl is supported.", "format");
  return new Response(await exportVerdicts({ id }), {
    headers: { "content-type": "application/x-ndjson; charset=utf-8", "content-disposition": `attachment; filename="judge-run-${id}.jsonl"` },
  });
});

import { z } from "zod";
import { requireAdmin } from "@/lib/auth/session";
import { exportQuestions } from "@/lib/admin/questions-export";
import { parseQuery, route } from "@/lib/http";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

const query = z.object({ format: z.enum(["csv", "jsonl"]).default("csv") });

export const GET = route(async (request: Request) => {
  await requireAdmin();
  const { format } = parseQuery(request, query);
  const body = await exportQuestions({ format });
  const date = new Date().toISOString().slice(0, 10);
  return new Response(format === "csv" ? "\uFEFF" + body : body, {
    headers: {
      "content-type": format === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8",
      "content-disposition": `attachment; filename="leitai-questions-${date}.${format}"`,
    },
  });
});

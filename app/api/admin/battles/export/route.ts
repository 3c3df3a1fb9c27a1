import { exportBattles } from "@/lib/arena/battle-export";
import { requireAdmin } from "@/lib/auth/session";
import { parseQuery, route } from "@/lib/http";
import { z } from "zod";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

const query = z.object({ invalid: z.enum(["0", "1"]).default("0") });

/** The battle data set as FastChat clean-battle JSONL, streamed. */
export const GET = route(async (request: Request) => {
  await requireAdmin();
  const { invalid } = parseQuery(request, query);
  const rows = exportBattles({ includeInvalid: invalid === "1" });
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await rows.next();
      if (next.done) controller.close();
      else controller.enqueue(encoder.encode(JSON.stringify(next.value) + "\n"));
    },
  });
  return new Response(body, {
    headers: {
      "content-type": "application/x-ndjson; charset=utf-8",
      "content-disposition": `attachment; filename="leitai-battles-${new Date().toISOString().slice(0, 10)}.jsonl"`,
    },
  });
});

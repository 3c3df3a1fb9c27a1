import { z } from "zod";
import { requireAdmin } from "@/lib/auth/session";
import { parseQuery, route } from "@/lib/http";
import { queryInt } from "@/lib/input";
import { assertGenerationExists, generationEvents } from "@/lib/pipeline/events";
import { afterSeqOf, generationSse, sseResponse } from "@/lib/pipeline/sse";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

const query = z.object({ after: queryInt().optional() });

// One raw generation as Server-Sent Events. Admins only: voters read their battle's stream,
// which checks that the battle is theirs; a raw generation id must not bypass that.
// Resumes after Last-Event-ID (browser reconnects) or ?after=.
export const GET = route(async (request: Request, { params }: { params: Promise<{ id: string }> }) => {
  await requireAdmin();
  const { id } = await params;
  parseQuery(request, query); // range-checks ?after=; afterSeqOf reads it with Last-Event-ID
  await assertGenerationExists(id);
  const afterSeq = afterSeqOf(request);
  return sseResponse((signal) => generationSse(generationEvents(id, { afterSeq, signal })), { signal: request.signal });
});

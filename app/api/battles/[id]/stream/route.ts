import { z } from "zod";
import { getBattleSideGeneration } from "@/lib/arena/battle-view";
import { errors } from "@/lib/errors";
import { parseQuery, route } from "@/lib/http";
import { queryInt } from "@/lib/input";
import { generationEvents } from "@/lib/generations";
import { blindMessages } from "@/lib/pipeline/events";
import { afterSeqOf, generationSse, sseResponse } from "@/lib/pipeline/sse";
import { resolveVoter } from "@/lib/voter";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

const query = z.object({
  side: z.enum(["A", "B"]),
  // A battle has a handful of turns; the bound keeps a wild number out of the database.
  turn: queryInt({ max: 10_000 }).default(0),
  after: queryInt().optional(),
});

// One side of one turn as Server-Sent Events. Messages carry seq, type and text only —
// never the model — and resume after Last-Event-ID on reconnect.
export const GET = route(async (request: Request, { params }: { params: Promise<{ id: string }> }) => {
  const { id } = await params;
  const { side, turn, after } = parseQuery(request, query);
  const voter = await resolveVoter({ issueCookie: false });
  if (!voter) throw errors.forbidden("battle", { key: "battleNotYours" });
  const generationId = await getBattleSideGeneration({ battleId: id, voter, side, turn });
  const afterSeq = request.headers.has("last-event-id") ? afterSeqOf(request) : (after ?? 0);
  return sseResponse((signal) => generationSse(blindMessages(generationEvents(generationId, { afterSeq, signal }))), { signal: request.signal });
});

import { requireAdmin } from "@/lib/auth/session";
import { generationExists } from "@/lib/admin/model-test";
import { errors } from "@/lib/errors";
import { generationEvents } from "@/lib/generations";
import { route } from "@/lib/http";
import { afterSeqOf, generationSse, sseResponse } from "@/lib/pipeline/sse";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

// Any generation as Server-Sent Events, for the admin's test button (admins may see models).
export const GET = route(async (request: Request, { params }: { params: Promise<{ id: string }> }) => {
  await requireAdmin();
  const { id } = await params;
  if (!(await generationExists({ id }))) throw errors.notFound("generation");
  const afterSeq = afterSeqOf(request);
  return sseResponse((signal) => generationSse(generationEvents(id, { afterSeq, signal })), { signal: request.signal });
});

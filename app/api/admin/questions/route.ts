import { NextResponse } from "next/server";
import { requireAdmin } from "@/lib/auth/session";
import { createQuestion, listQuestions, questionFilterSchema, questionInputSchema } from "@/lib/admin/questions";
import { parseJson, parseQuery, route } from "@/lib/http";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

export const GET = route(async (request: Request) => {
  await requireAdmin();
  return NextResponse.json(await listQuestions(parseQuery(request, questionFilterSchema)));
});

export const POST = route(async (request: Request) => {
  const admin = await requireAdmin();
  const input = await parseJson(request, questionInputSchema);
  return NextResponse.json({ question: await createQuestion({ input, actorId: admin.id }) }, { status: 201 });
});

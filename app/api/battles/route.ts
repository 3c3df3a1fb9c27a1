import { NextResponse } from "next/server";
import { z } from "zod";
import { createBankBattle, createLiveBattle, createNamedBattle } from "@/lib/arena/battles";
import { route, parseJson } from "@/lib/http";
import { resolveVoter } from "@/lib/voter";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

const body = z.discriminatedUnion("mode", [
  z.object({ mode: z.literal("bank"), categoryId: z.string().min(1).optional() }),
  z.object({ mode: z.literal("live"), prompt: z.string() }),
  z.object({
    mode: z.literal("named"),
    modelA: z.string().min(1),
    modelB: z.string().min(1),
    prompt: z.string().optional(),
    questionId: z.string().min(1).optional(),
  }),
]);

// The answer carries the battle id and the sides only; which model is A or B stays on the server.
export const POST = route(async (request: Request) => {
  const input = await parseJson(request, body);
  const voter = (await resolveVoter({ issueCookie: true }))!;
  const battle =
    input.mode === "bank"
      ? await createBankBattle({ voter, categoryId: input.categoryId })
      : input.mode === "live"
        ? await createLiveBattle({ voter, prompt: input.prompt })
        : await createNamedBattle({ voter, modelSlugs: [input.modelA, input.modelB], prompt: input.prompt, questionId: input.questionId });
  return NextResponse.json({ id: battle.id, mode: battle.mode, sides: ["A", "B"] }, { status: 201 });
});

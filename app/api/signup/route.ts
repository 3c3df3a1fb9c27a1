import { headers } from "next/headers";
import { NextResponse } from "next/server";
import { signupSchema, signUp } from "@/lib/accounts/signup";
import { parseJson, route } from "@/lib/http";
import { clientIp, hashIp } from "@/lib/voter-id";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

export const POST = route(async (request: Request) => {
  const input = await parseJson(request, signupSchema);
  const user = await signUp({ input, ipHash: hashIp(clientIp(await headers())) });
  return NextResponse.json({ user: { id: user.id, email: user.email, role: user.role } }, { status: 201 });
});

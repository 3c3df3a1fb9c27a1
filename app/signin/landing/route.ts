import { currentUser } from "@/lib/auth/session";

export const dynamic = "force-dynamic";

/** After a sign-in that no page asked for: admins to the dashboard, everyone else to a battle (as after signing up). */
export async function GET(): Promise<Response> {
  const user = await currentUser();
  const to = !user ? "/signin" : user.role === "admin" ? "/admin" : "/battle";
  return new Response(null, { status: 303, headers: { location: to } });
}

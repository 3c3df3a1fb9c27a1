import type { NextAuthOptions } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";
import { z } from "zod";
import { env } from "../env";
import { authenticate } from "../users";

const credentials = z.object({ email: z.string().min(3).max(320), password: z.string().min(1).max(1024) });

export function authOptions(): NextAuthOptions {
  return {
    secret: env().NEXTAUTH_SECRET,
    session: { strategy: "jwt", maxAge: 60 * 60 * 24 * 14 },
    pages: { signIn: "/signin" },
    providers: [
      CredentialsProvider({
        name: "Email",
        credentials: { email: { label: "Email", type: "email" }, password: { label: "Password", type: "password" } },
        async authorize(raw) {
          const parsed = credentials.safeParse(raw);
          if (!parsed.success) return null;
          const user = await authenticate(parsed.data);
          return user ? { id: user.id, email: user.email, name: user.name ?? user.email } : null;
        },
      }),
    ],
    callbacks: {
      // The token carries only the user id; the role is re-read from the database on every
      // protected request so a demotion or a disabled account takes effect at once.
      async jwt({ token, user }) {
        if (user) token.sub = user.id;
        return token;
      },
      async session({ session, token }) {
        if (session.user && token.sub) (session.user as { id?: string }).id = token.sub;
        return session;
      },
    },
  };
}

import { randomBytes } from "node:crypto";
import { createUser } from "@/lib/users";
import { Client } from "./http";

export const ADMIN = {
  email: process.env.LEITAI_ADMIN_EMAIL ?? "admin@test.leitai",
  password: process.env.LEITAI_ADMIN_PASSWORD ?? "test-admin-password",
};

export async function adminClient(): Promise<Client> {
  const client = new Client();
  await client.signIn(ADMIN.email, ADMIN.password);
  return client;
}

/** A fresh signed-in voter account. */
export async function voterClient(): Promise<Client> {
  const email = `voter-${randomBytes(6).toString("hex")}@test.leitai`;
  const password = randomBytes(12).toString("base64url");
  await createUser({ email, password, role: "voter" });
  const client = new Client();
  await client.signIn(email, password);
  return client;
}

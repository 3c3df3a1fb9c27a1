import { randomBytes } from "node:crypto";
import { db } from "@/lib/db";
import { questionTextHash } from "@/lib/questions";
import type { Client } from "./http";

export function uniq(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}

/** Active local models that only this test file uses (the others are disabled meanwhile). */
export async function isolatedModels(count: number, names: string[] = []) {
  await db.model.updateMany({ where: { status: "active" }, data: { status: "disabled" } });
  const models = [];
  for (let i = 0; i < count; i++) {
    const slug = uniq(`model-${i}`);
    models.push(await db.model.create({
      data: {
        slug, displayName: names[i] ?? `Test Model ${slug}`, organisation: `Org ${slug}`, kind: "local",
        engine: { path: "/nonexistent", servedName: slug }, battleWeight: 1,
      },
    }));
  }
  return models;
}

/** A fresh question in the first category, answered (completed pre-generation) by each model. */
export async function answeredQuestion(models: { id: string }[], answers?: string[]) {
  const category = await db.category.findFirstOrThrow({ orderBy: { sortOrder: "asc" } });
  const text = uniq("What is the capital of Atlantis?");
  const question = await db.question.create({ data: { text, textHash: questionTextHash(text), categoryId: category.id, language: "en" } });
  for (const [i, m] of models.entries()) {
    await db.generation.create({
      data: {
        modelId: m.id, questionId: question.id, purpose: "pregen", status: "completed",
        messages: [{ role: "user", content: text }], text: answers?.[i] ?? `Answer ${i}: it sank.`, finishedAt: new Date(),
      },
    });
  }
  return question;
}

/** Starts a bank battle as `client` (which keeps the voter cookie) and returns its id. */
export async function bankBattle(client: Client, headers: Record<string, string> = {}): Promise<string> {
  const res = await client.fetch("/api/battles", {
    method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ mode: "bank" }),
  });
  if (res.status !== 201) throw new Error(`POST /api/battles answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}

/**
 * A bank battle after adding a question answered by `models`: once a vote from an address has
 * revealed a question's models, matchmaking never serves that question to it again, and every
 * test client comes from the same address.
 */
export async function freshBankBattle(client: Client, models: { id: string }[], headers: Record<string, string> = {}): Promise<string> {
  await answeredQuestion(models);
  return bankBattle(client, headers);
}

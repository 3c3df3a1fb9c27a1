// Seeds what a fresh arena needs: the 10 categories, the demo question bank and the first
// admin. Safe to run again: everything is upserted by a natural key.
import { randomBytes } from "node:crypto";
import { mergeAliases } from "../lib/category-names";
import { db } from "../lib/db";
import { env } from "../lib/env";
import { questionTextHash } from "../lib/questions";
import { countAdmins, ensureAdmin } from "../lib/users";
import { seedCategories, seedQuestions } from "./seed-data/questions";

export async function seedCategoriesAndQuestions(): Promise<{ categories: number; questionsCreated: number }> {
  const idBySlug = new Map<string, string>();
  for (const c of seedCategories) {
    // An admin's own aliases stay: the seeded ones are added to them, each name once.
    const existing = await db.category.findUnique({ where: { slug: c.slug }, select: { aliases: true } });
    const aliases = mergeAliases(existing?.aliases ?? [], c.aliases);
    const row = await db.category.upsert({
      where: { slug: c.slug },
      create: { ...c, aliases },
      update: { nameZh: c.nameZh, nameEn: c.nameEn, sortOrder: c.sortOrder, aliases },
    });
    idBySlug.set(c.slug, row.id);
  }
  const rows = seedQuestions.map((q) => ({
    text: q.text,
    textHash: questionTextHash(q.text),
    categoryId: idBySlug.get(q.category)!,
    language: q.language,
    tags: ["demo"],
  }));
  const { count } = await db.question.createMany({ data: rows, skipDuplicates: true });
  return { categories: seedCategories.length, questionsCreated: count };
}

/** Returns the generated password when it had to create an admin without one from the env. */
export async function seedAdmin(): Promise<{ email: string; password: string | null; created: boolean }> {
  const { LEITAI_ADMIN_EMAIL, LEITAI_ADMIN_PASSWORD } = env();
  if (LEITAI_ADMIN_EMAIL && LEITAI_ADMIN_PASSWORD) {
    const { created } = await ensureAdmin({ email: LEITAI_ADMIN_EMAIL, password: LEITAI_ADMIN_PASSWORD });
    return { email: LEITAI_ADMIN_EMAIL, password: null, created };
  }
  if ((await countAdmins()) > 0) return { email: "", password: null, created: false };
  const email = LEITAI_ADMIN_EMAIL ?? "admin@leitai.local";
  const password = randomBytes(12).toString("base64url");
  // Printed in a log: it must be replaced at the first sign-in.
  await ensureAdmin({ email, password, mustChangePassword: true });
  return { email, password, created: true };
}

async function main() {
  const bank = await seedCategoriesAndQuestions();
  const admin = await seedAdmin();
  console.log(`[seed] ${bank.categories} categories, ${bank.questionsCreated} new demo questions`);
  if (admin.password) {
    console.log(`[seed] created admin ${admin.email} with password: ${admin.password}`);
    console.log("[seed] this password is shown once; the first sign-in asks for a new one (or set LEITAI_ADMIN_PASSWORD).");
  } else if (admin.created) {
    console.log(`[seed] created admin ${admin.email} from LEITAI_ADMIN_EMAIL / LEITAI_ADMIN_PASSWORD`);
  }
  await db.$disconnect();
}

const invokedDirectly = process.argv[1]?.endsWith("seed.ts");
if (invokedDirectly) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}

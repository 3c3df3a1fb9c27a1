import path from "node:path";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { defineConfig } from "prisma/config";

// The CLI's JavaScript schema engine runs offline (the classic one downloads a binary).
// It reads DATABASE_URL only when a command actually needs the database.

// pg_catalog columns of type "char" (OID 18) and name (OID 19) cannot be deserialised by
// the adapter (prisma/orm#27403); they are plain text, so report them as text (OID 25).
function catalogSafePool(connectionString: string): pg.Pool {
  const pool = new pg.Pool({ connectionString });
  const query = pool.query.bind(pool) as (...args: unknown[]) => Promise<pg.QueryResult>;
  const patched = async (...args: unknown[]) => {
    const result = await query(...args);
    for (const field of result.fields ?? []) {
      if (field.dataTypeID === 18 || field.dataTypeID === 19) field.dataTypeID = 25;
    }
    return result;
  };
  Object.assign(pool, { query: patched });
  return pool;
}

export default defineConfig({
  experimental: { adapter: true },
  schema: path.join("prisma", "schema.prisma"),
  migrations: { path: path.join("prisma", "migrations") },
  engine: "js",
  adapter: async () => {
    const url = process.env.DATABASE_URL;
    if (!url) throw new Error("DATABASE_URL is required for this prisma command");
    return new PrismaPg(catalogSafePool(url), { disposeExternalPool: true });
  },
});

import pg from "pg";
import { env } from "./env";

// node-postgres for the hottest paths (the vote endpoint): a named (prepared) query costs
// a fraction of a Prisma call. Everything else goes through Prisma (lib/db.ts).
const holder = globalThis as unknown as { leitaiSql?: pg.Pool };

export function sql(): pg.Pool {
  holder.leitaiSql ??= new pg.Pool({ connectionString: env().DATABASE_URL, max: 20, connectionTimeoutMillis: 5000 });
  return holder.leitaiSql;
}

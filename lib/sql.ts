import pg from "pg";
import { env } from "./env";

// node-postgres for the hottest paths (the vote endpoint): a named (prepared) query costs
// a fraction of a Prisma call. Everything else goes through Prisma (lib/db.ts).
const holder = globalThis as unknown as { leitaiSql?: pg.Pool };

// 10: more connections than that only make a few cores switch between PostgreSQL backends
// (the vote benchmark's p99 was 25–73 ms with 10 against 58–90 ms with 20).
export function sql(): pg.Pool {
  holder.leitaiSql ??= new pg.Pool({ connectionString: env().DATABASE_URL, max: 10, connectionTimeoutMillis: 5000 });
  return holder.leitaiSql;
}

import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "@prisma/client";
import { env } from "./env";

export function createDb(url: string = env().DATABASE_URL): PrismaClient {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: url, connectionTimeoutMillis: 5000 }) });
}

// One client per process; kept on globalThis so dev hot reload does not leak pools.
const holder = globalThis as unknown as { leitaiDb?: PrismaClient };

export function getDb(): PrismaClient {
  holder.leitaiDb ??= createDb();
  return holder.leitaiDb;
}

/** The process-wide client, created on first use (so builds need no database). */
export const db: PrismaClient = new Proxy({} as PrismaClient, {
  get(_target, prop) {
    const client = getDb();
    const value = Reflect.get(client, prop, client);
    return typeof value === "function" ? value.bind(client) : value;
  },
});

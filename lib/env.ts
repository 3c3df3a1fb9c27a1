import { z } from "zod";

// The only module that reads process.env. Validation is lazy so `next build` and
// tools that never touch a service do not need a full environment.

const secret = (name: string) =>
  z.string({ error: `${name} is required` }).min(32, `${name} must be at least 32 characters`);

const intFrom = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const serverSchema = z.object({
  NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
  DATABASE_URL: z
    .string({ error: "DATABASE_URL is required (postgresql://user@host:port/db)" })
    .regex(/^postgres(ql)?:\/\//, "DATABASE_URL must start with postgresql://"),
  REDIS_URL: z
    .string({ error: "REDIS_URL is required (redis://host:port)" })
    .regex(/^rediss?:\/\//, "REDIS_URL must start with redis://"),
  NEXTAUTH_SECRET: secret("NEXTAUTH_SECRET"),
  NEXTAUTH_URL: z.url("NEXTAUTH_URL must be a URL").optional(),
  /** Signs the anonymous voter cookie and hashes IPs. */
  LEITAI_SECRET: secret("LEITAI_SECRET"),
  /** 32 bytes as 64 hex characters: encrypts model API keys at rest. */
  LEITAI_ENCRYPTION_KEY: z
    .string({ error: "LEITAI_ENCRYPTION_KEY is required (64 hex characters)" })
    .regex(/^[0-9a-fA-F]{64}$/, "LEITAI_ENCRYPTION_KEY must be 64 hex characters (32 bytes)"),
  LEITAI_ADMIN_EMAIL: z.email("LEITAI_ADMIN_EMAIL must be an email address").optional(),
  LEITAI_ADMIN_PASSWORD: z.string().min(8, "LEITAI_ADMIN_PASSWORD must be at least 8 characters").optional(),
  /** Votes allowed per window, per voter and per IP. */
  LEITAI_VOTE_LIMIT_PER_VOTER: intFrom(60),
  LEITAI_VOTE_LIMIT_PER_IP: intFrom(300),
  LEITAI_VOTE_LIMIT_WINDOW_S: intFrom(60),
  /** Longest live prompt a voter may type, in characters. */
  LEITAI_PROMPT_MAX_CHARS: intFrom(4000),
  /** Base URL of the built-in gpu-runtime that serves `local` models. */
  LEITAI_RUNTIME_URL: z.url("LEITAI_RUNTIME_URL must be a URL").default("http://127.0.0.1:8000"),
  LEITAI_WORKER_HEALTH_PORT: intFrom(3100),
  /** Comma-separated model slugs this worker serves; empty means every active model. */
  LEITAI_WORKER_MODELS: z.string().default(""),
});

export type Env = z.infer<typeof serverSchema>;

export class EnvError extends Error {
  constructor(public readonly issues: string[]) {
    super(`Invalid environment:\n  - ${issues.join("\n  - ")}`);
    this.name = "EnvError";
  }
}

export function parseEnv(source: Record<string, string | undefined>): Env {
  // Empty strings mean "unset" so `FOO=` in a shell does not count as a value.
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ""));
  const result = serverSchema.safeParse(cleaned);
  if (!result.success) {
    throw new EnvError(result.error.issues.map((i) => `${i.path.join(".") || "env"}: ${i.message}`));
  }
  return result.data;
}

let cached: Env | undefined;

export function env(): Env {
  cached ??= parseEnv(process.env);
  return cached;
}

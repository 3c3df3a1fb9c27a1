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
  /**
   * Lets Prometheus read the site's /metrics as `Authorization: Bearer <token>`; unset, only
   * a signed-in admin can read it.
   */
  LEITAI_METRICS_TOKEN: secret("LEITAI_METRICS_TOKEN").optional(),
  LEITAI_ADMIN_EMAIL: z.email("LEITAI_ADMIN_EMAIL must be an email address").optional(),
  LEITAI_ADMIN_PASSWORD: z.string().min(8, "LEITAI_ADMIN_PASSWORD must be at least 8 characters").optional(),
  /**
   * Set when a reverse proxy in front of the site appends the client's address to
   * X-Forwarded-For; otherwise that header is replaced by the socket's address, so a client
   * cannot choose the IP its rate limits are counted under.
   */
  LEITAI_TRUST_PROXY: z.stringbool({ error: "LEITAI_TRUST_PROXY must be true or false" }).default(false),
  /** false sends anonymous votes through the Next.js handler too (lib/web/server.ts); for comparison. */
  LEITAI_VOTE_FAST_PATH: z.stringbool({ error: "LEITAI_VOTE_FAST_PATH must be true or false" }).default(true),
  /** Votes allowed per window, per voter and per IP. */
  LEITAI_VOTE_LIMIT_PER_VOTER: intFrom(60),
  LEITAI_VOTE_LIMIT_PER_IP: intFrom(300),
  LEITAI_VOTE_LIMIT_WINDOW_S: intFrom(60),
  /**
   * A battle stream with no new message for this long ends with a "stalled" error event, so the
   * voter is offered a re-roll or a new battle instead of an endless spinner.
   */
  LEITAI_STREAM_STALL_MS: intFrom(120_000),
  /** Base URL of the built-in gpu-runtime that serves `local` models. */
  LEITAI_RUNTIME_URL: z.url("LEITAI_RUNTIME_URL must be a URL").default("http://127.0.0.1:8000"),
  LEITAI_WORKER_HEALTH_PORT: intFrom(3100),
  /** Comma-separated model slugs this worker serves; empty means every active model. */
  LEITAI_WORKER_MODELS: z.string().default(""),
  /** Names this worker in heartbeats and in BullMQ; defaults to host:pid. */
  LEITAI_WORKER_ID: z.string().optional(),
  /** Jobs per model run at once when the engine does not report its batch size. */
  LEITAI_WORKER_CONCURRENCY: intFrom(8),
  /** How often the worker re-reads the model list (new models get a consumer). */
  LEITAI_WORKER_REFRESH_MS: intFrom(30_000),
  /** BullMQ job lock and stalled-job check: a dead worker's job is retried after about this long. */
  LEITAI_WORKER_LOCK_MS: intFrom(30_000),
  LEITAI_WORKER_STALLED_INTERVAL_MS: intFrom(30_000),
  /** Running jobs get this long to finish on SIGTERM before they are aborted and retried elsewhere. */
  LEITAI_WORKER_SHUTDOWN_MS: intFrom(15_000),
  /** Engine timeouts: until response headers, until the first token, and between two chunks. */
  LEITAI_ENGINE_CONNECT_TIMEOUT_MS: intFrom(10_000),
  LEITAI_ENGINE_FIRST_TOKEN_TIMEOUT_MS: intFrom(120_000),
  LEITAI_ENGINE_IDLE_TIMEOUT_MS: intFrom(60_000),
  /** An answer whose engine (or PostgreSQL / Redis) is down waits this long for it before it spends one of its attempts. */
  LEITAI_ENGINE_DOWN_WAIT_MS: intFrom(300_000),
  /** Engine slots kept for live work that pre-generation never takes; 0: a quarter of the engine's batch. */
  LEITAI_LIVE_RESERVED_SLOTS: z.coerce.number().int().min(0).default(0),
  /** How often a worker re-enqueues generations PostgreSQL calls queued or running that have no job. */
  LEITAI_RECONCILE_MS: intFrom(60_000),
  /** "slug=path,slug=path": the worker starts and supervises a gpu-runtime serving these. */
  LEITAI_RUNTIME_MODELS: z.string().default(""),
  /** Extra gpu-runtime arguments, e.g. "--device cuda --max-num-seqs 64". */
  LEITAI_RUNTIME_ARGS: z.string().default(""),
  LEITAI_RUNTIME_PYTHON: z.string().default("gpu-runtime/.venv/bin/python"),
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

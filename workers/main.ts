// The worker process: serves model queues from config (LEITAI_WORKER_MODELS, empty = every
// active model), the fan-out queues of pre-generation and judge runs (pool.ts, fan-out.ts) and
// the ratings queue (ratings.ts), optionally supervises a gpu-runtime, reports health, metrics
// and heartbeats, and shuts down cleanly.
import { hostname } from "node:os";
import { db } from "../lib/db";
import { env } from "../lib/env";
import { log } from "../lib/log";
import { loadRuntimeDrafts } from "../lib/models/drafts";
import { closeQueues } from "../lib/pipeline/queues";
import { warnIfRedisNotDurable } from "../lib/pipeline/redis-durability";
import { redis } from "../lib/redis";
import { startHealthServer, type HealthState } from "./health-server";
import { GenerationWorkers } from "./pool";
import { startRatingsWorker } from "./ratings";
import { RuntimeDraftSync } from "./runtime-drafts";
import { maxNumSeqsOf, parseRuntimeModels, RuntimeSupervisor } from "./runtime-supervisor";

const RUNTIME_START_TIMEOUT_MS = 10 * 60_000;

async function main() {
  const config = env();
  const workerId = config.LEITAI_WORKER_ID ?? `${hostname()}:${process.pid}`;
  const state: HealthState = { ready: false, shuttingDown: false };
  const health = startHealthServer(config.LEITAI_WORKER_HEALTH_PORT, state);
  // Queues survive a Redis restart only if Redis keeps them: say so when it does not.
  void warnIfRedisNotDurable(redis());

  let runtime: RuntimeSupervisor | null = null;
  const runtimeModels = parseRuntimeModels(config.LEITAI_RUNTIME_MODELS);
  const runtimeArgs = config.LEITAI_RUNTIME_ARGS.split(/\s+/).filter(Boolean);
  const runtimeTarget = { runtimeUrl: config.LEITAI_RUNTIME_URL, servedNames: runtimeModels.map((m) => m.name) };
  if (runtimeModels.length) {
    runtime = new RuntimeSupervisor({
      models: runtimeModels,
      url: config.LEITAI_RUNTIME_URL,
      python: config.LEITAI_RUNTIME_PYTHON,
      extraArgs: runtimeArgs,
      packageDir: "gpu-runtime",
      drafts: (await loadRuntimeDrafts(runtimeTarget)).drafts,
    });
    runtime.start();
  }

  const pool = new GenerationWorkers({
    workerId,
    models: config.LEITAI_WORKER_MODELS.split(",").map((s) => s.trim()).filter(Boolean),
    refreshMs: config.LEITAI_WORKER_REFRESH_MS,
    lockDurationMs: config.LEITAI_WORKER_LOCK_MS,
    stalledIntervalMs: config.LEITAI_WORKER_STALLED_INTERVAL_MS,
    defaultConcurrency: config.LEITAI_WORKER_CONCURRENCY,
    localConcurrency: runtime ? maxNumSeqsOf(runtimeArgs) : undefined,
    timeouts: {
      connectMs: config.LEITAI_ENGINE_CONNECT_TIMEOUT_MS,
      firstTokenMs: config.LEITAI_ENGINE_FIRST_TOKEN_TIMEOUT_MS,
      idleMs: config.LEITAI_ENGINE_IDLE_TIMEOUT_MS,
    },
    engineDownWaitMs: config.LEITAI_ENGINE_DOWN_WAIT_MS,
    liveReservedSlots: config.LEITAI_LIVE_RESERVED_SLOTS,
    reconcileMs: config.LEITAI_RECONCILE_MS,
  });
  state.metrics = () => pool.renderMetrics();
  state.engines = () => ({ models: pool.modelIds, down: pool.enginesDown });

  let ratings: Awaited<ReturnType<typeof startRatingsWorker>> | null = null;
  let draftTimer: NodeJS.Timeout | undefined;
  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    state.shuttingDown = true;
    clearInterval(draftTimer);
    log.info("worker:shutdown", { signal, workerId });
    // Force exit if something refuses to close: the deadline for jobs plus room to hand them back.
    setTimeout(() => process.exit(1), config.LEITAI_WORKER_SHUTDOWN_MS + 10_000).unref();
    await Promise.all([
      pool.close(config.LEITAI_WORKER_SHUTDOWN_MS).catch((e) => log.error("worker:close", e)),
      ratings?.close().catch((e) => log.error("worker:close-ratings", e)),
    ]);
    await closeQueues();
    await runtime?.stop();
    await db.$disconnect().catch(() => undefined);
    health.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
  // Started by `npm run up` with an IPC channel: it closes when up dies, even by SIGKILL.
  process.on("disconnect", () => void shutdown("parent gone"));

  // With a supervised runtime, wait for it before sizing concurrency from it.
  if (runtime) await runtime.waitHealthy(RUNTIME_START_TIMEOUT_MS);
  await pool.start();
  if (runtime) {
    // Drafts set in the admin's model settings reach the runtime within one refresh.
    const drafts = new RuntimeDraftSync({ runtime, pool, ...runtimeTarget, drainMs: config.LEITAI_WORKER_SHUTDOWN_MS, healthyTimeoutMs: RUNTIME_START_TIMEOUT_MS });
    draftTimer = setInterval(() => void drafts.sync().catch((e) => log.warn("runtime:drafts", e)), config.LEITAI_WORKER_REFRESH_MS);
  }
  // Rating recomputes (scheduled after votes, or by an admin) run in the worker process too.
  ratings = startRatingsWorker();
  pool.metrics.observeJobs(ratings);
  state.ready = true;
  log.info("worker:ready", { workerId, healthPort: config.LEITAI_WORKER_HEALTH_PORT, models: pool.modelIds });
}

main().catch((error) => {
  log.error("worker:fatal", error);
  process.exit(1);
});

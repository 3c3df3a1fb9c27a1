// The worker process: serves model queues from config. This first version connects to
// Redis, reports health and shuts down cleanly; generation consumers plug in here.
import { env } from "../lib/env";
import { log } from "../lib/log";
import { createRedis } from "../lib/redis";
import { startHealthServer, type HealthState } from "./health-server";

const SHUTDOWN_DEADLINE_MS = 15_000;

async function main() {
  const config = env();
  const state: HealthState = { ready: false, shuttingDown: false };
  const health = startHealthServer(config.LEITAI_WORKER_HEALTH_PORT, state);
  const redis = createRedis({ maxRetriesPerRequest: null });
  redis.on("error", (error) => log.warn("worker:redis", error));
  await redis.ping();
  state.ready = true;
  log.info("worker:ready", { healthPort: config.LEITAI_WORKER_HEALTH_PORT });

  const shutdown = async (signal: string) => {
    if (state.shuttingDown) return;
    state.shuttingDown = true;
    log.info("worker:shutdown", { signal });
    // Force exit if something refuses to close within the deadline.
    setTimeout(() => process.exit(1), SHUTDOWN_DEADLINE_MS).unref();
    await redis.quit().catch(() => undefined);
    health.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

main().catch((error) => {
  log.error("worker:fatal", error);
  process.exit(1);
});

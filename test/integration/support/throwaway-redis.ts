import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { freePort, ROOT } from "./processes";

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Tests kill these servers on purpose: a dropped connection is expected, not worth a log. */
function quiet(conn: Redis): Redis {
  conn.on("error", () => undefined);
  return conn;
}

async function answers(port: number): Promise<boolean> {
  const probe = new Redis({ port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on("error", () => undefined); // a refused connection is the answer, not a failure
  try {
    await probe.connect();
    return (await probe.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

/** A redis-server of its own, started with these arguments (not daemonized), for one test file. */
export class ThrowawayRedisServer {
  private child: ChildProcess | null = null;
  readonly dir = mkdtempSync(path.join(tmpdir(), "leitai-redis-"));
  port = 0;

  /** On `port` when given (a client already pointed at it connects once it is up). */
  async start(args: string[], port?: number): Promise<this> {
    this.port = port ?? (await freePort());
    this.child = spawn("redis-server", ["--bind", "127.0.0.1", "--port", String(this.port), "--dir", this.dir, ...args], { stdio: "ignore" });
    await until(() => answers(this.port), 10_000, `redis-server on ${this.port}`);
    return this;
  }

  connect(): Redis {
    return quiet(new Redis({ port: this.port, host: "127.0.0.1", maxRetriesPerRequest: 1 }));
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
  }
}

/** The local Redis of scripts/services.sh, with a state dir and port of its own. */
export class ServicesRedis {
  readonly stateDir = mkdtempSync(path.join(tmpdir(), "leitai-state-"));
  constructor(readonly port: number) {}

  run(command: "start-redis" | "stop-redis"): void {
    execFileSync("bash", [path.join(ROOT, "scripts/services.sh"), command], {
      env: { ...process.env, LEITAI_STATE_DIR: this.stateDir, LEITAI_REDIS_PORT: String(this.port) },
      stdio: "pipe",
    });
  }

  get redisDir(): string {
    return path.join(this.stateDir, "redis");
  }

  /** The daemon's pid from its pidfile. */
  get pid(): number {
    return Number(readFileSync(path.join(this.stateDir, "redis.pid"), "utf8").trim());
  }

  /** SIGKILL, as a crash or an OOM kill would: no save, no fsync beyond what the AOF already has. */
  async crash(): Promise<void> {
    process.kill(this.pid, "SIGKILL");
    // Its sockets close when it dies (it may linger as a zombie of whoever reaps daemons).
    await until(async () => !(await answers(this.port)), 10_000, "the killed redis's port to close");
  }

  connect(): Redis {
    return quiet(new Redis({ port: this.port, host: "127.0.0.1", maxRetriesPerRequest: 1 }));
  }

  answers(): Promise<boolean> {
    return answers(this.port);
  }
}

export { until as waitUntil };

import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

export const ROOT = path.resolve(__dirname, "..", "..", "..");

/**
 * The bound for a case that starts workers, runtimes or a site and generates on CPU: its own
 * waits run to minutes on a loaded machine, so the suite's 60 s default would end it first.
 */
export const SLOW_CASE_MS = 300_000;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

/** A throwaway PostgreSQL cluster of its own, started by the project's services script. */
export class ThrowawayPostgres {
  readonly dir = mkdtempSync(path.join(tmpdir(), "leitai-pg-"));
  constructor(readonly port: number) {}

  private run(command: string) {
    execFileSync("bash", [path.join(ROOT, "scripts/services.sh"), command], {
      env: { ...process.env, LEITAI_STATE_DIR: this.dir, LEITAI_PG_PORT: String(this.port) },
      stdio: "pipe",
    });
  }

  start() { this.run("start-pg"); }
  stop() { this.run("stop-pg"); }
  get url() { return `postgresql://leitai@127.0.0.1:${this.port}/leitai`; }
}

/** The built site (`next build` ran before the integration tests), on its own port and env. */
export async function startSite(port: number, env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "scripts/web.ts"), "-p", String(port)], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: "ignore",
  });
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      await fetch(`http://127.0.0.1:${port}/`);
      return child;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  child.kill();
  throw new Error(`the site did not start on port ${port}`);
}

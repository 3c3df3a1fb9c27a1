import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, constants, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { log } from "../lib/log";
import { draftArgs, sameDrafts, type RuntimeDraft } from "../lib/models/drafts";

// Starts the gpu-runtime for `local` models and keeps it up: restarts it with backoff when it
// dies, and tells whoever waits when /health answers. The runtime never outlives this process:
// it gets `--parent-pid` (it exits when we die, even by SIGKILL), and a pidfile per port lets
// the next supervisor stop a runtime that survived anyway before it starts its own.

export type RuntimeSupervisorOptions = {
  /** [{ name, path }]: the models the runtime serves (--model NAME=PATH). */
  models: { name: string; path: string }[];
  /** Base URL the runtime listens on, e.g. http://127.0.0.1:8000 (host and port are taken from it). */
  url: string;
  python: string;
  extraArgs?: string[];
  /** Speculative drafts from the admin's model settings; restart() changes them. */
  drafts?: RuntimeDraft[];
  /** The gpu-runtime folder; the runtime runs there so `-m leitai_runtime` finds the package. */
  packageDir: string;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Where the runtime's output goes (default: this process's stdout/stderr). */
  stdio?: "inherit" | "ignore";
  /** Records the runtime's pid for its port (default: leitai-runtime-HOST-PORT.pid in the temp dir). */
  pidFile?: string;
  /** How long to wait for the port to be free before starting anyway (default 30 s). */
  portWaitMs?: number;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whether `pid` runs; a zombie (dead, not yet reaped) does not. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !["Z", "X"].includes(stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3));
  } catch {
    return true; // no /proc: kill(0) said it exists
  }
}

/** The arguments `pid` runs with, or null where they cannot be read. */
function commandLine(pid: number): string[] | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
  } catch {
    return null;
  }
}

function argValue(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}

/** Resolves once nothing listens on host:port (true), or when `timeoutMs` has passed (false). */
export async function waitForFreePort(host: string, port: number, timeoutMs: number): Promise<boolean> {
  const free = () => new Promise<boolean>((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, host, () => probe.close(() => resolve(true)));
  });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await free()) return true;
    if (Date.now() > deadline) return false;
    await sleep(250);
  }
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (processAlive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

/**
 * Stops the runtime recorded in `pidFile` when it still runs: it outlived its supervisor, and
 * holds the port a new one needs. Only a leitai runtime on this port, and never one whose
 * supervisor still lives (another worker's runtime): "owned" then.
 */
export async function stopStaleRuntime(pidFile: string, port: number): Promise<"none" | "stopped" | "owned"> {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, "utf8").trim());
  } catch {
    return "none"; // nothing recorded
  }
  if (!Number.isInteger(pid) || pid <= 0 || !processAlive(pid)) return "none";
  // The pid may have been reused by anything since: act only on what is plainly a runtime on this port.
  const args = commandLine(pid);
  if (!args || !args.includes("leitai_runtime") || argValue(args, "--port") !== String(port)) return "none";
  const owner = Number(argValue(args, "--parent-pid"));
  if (owner && owner !== process.pid && processAlive(owner)) {
    log.error("runtime:port-owned", { pid, owner, detail: `the runtime on port ${port} belongs to live process ${owner}` });
    return "owned";
  }
  log.warn("runtime:stale", { pid, port, detail: "stopping a runtime that outlived its worker" });
  process.kill(pid, "SIGTERM");
  if (!(await waitForExit(pid, 5_000))) {
    process.kill(pid, "SIGKILL");
    await waitForExit(pid, 5_000);
  }
  return "stopped";
}

/** "slug=path,slug=path" → [{ name, path }]. */
export function parseRuntimeModels(spec: string): { name: string; path: string }[] {
  return spec
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const eq = part.indexOf("=");
      if (eq <= 0 || eq === part.length - 1) throw new Error(`LEITAI_RUNTIME_MODELS: expected slug=path, got "${part}"`);
      return { name: part.slice(0, eq), path: part.slice(eq + 1) };
    });
}

/** The batch size a runtime started with these arguments will use, when they say. */
export function maxNumSeqsOf(args: string[]): number | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const value = arg === "--max-num-seqs" ? args[i + 1] : arg.startsWith("--max-num-seqs=") ? arg.slice(15) : undefined;
    if (value !== undefined && Number(value) > 0) return Number(value);
  }
  return undefined;
}

export class RuntimeSupervisor {
  private child: ChildProcess | null = null;
  /** Between start() and the spawn: a stale runtime is stopped and the port awaited. */
  private launching = false;
  private stopping = false;
  private restarting = false;
  private backoffMs: number;
  private restartTimer: NodeJS.Timeout | undefined;
  private drafts: RuntimeDraft[];
  restarts = 0;

  constructor(private readonly options: RuntimeSupervisorOptions) {
    this.backoffMs = options.minBackoffMs ?? 1000;
    this.drafts = options.drafts ?? [];
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  private get host(): string {
    return new URL(this.options.url).hostname.replace(/^\[|\]$/g, ""); // [::1] → ::1
  }

  private get port(): number {
    return Number(new URL(this.options.url).port || 80);
  }

  /** Where this runtime's pid is recorded, per host and port. */
  get pidFile(): string {
    return this.options.pidFile ?? path.join(tmpdir(), `leitai-runtime-${this.host.replace(/[^\w.-]/g, "_")}-${this.port}.pid`);
  }

  start(): void {
    if (this.stopping || this.child || this.launching) return;
    this.launching = true;
    void this.launch().finally(() => {
      this.launching = false;
    });
  }

  private async launch(): Promise<void> {
    try {
      await stopStaleRuntime(this.pidFile, this.port);
      if (!(await waitForFreePort(this.host, this.port, this.options.portWaitMs ?? 30_000))) {
        log.warn("runtime:port-busy", { port: this.port, detail: "something else listens on the runtime's port; starting anyway" });
      }
    } catch (error) {
      log.error("runtime:stale-check", error);
    }
    if (this.stopping) return; // stop() came meanwhile
    this.spawnRuntime();
  }

  private spawnRuntime(): void {
    const args = ["-m", "leitai_runtime"];
    for (const m of this.options.models) args.push("--model", `${m.name}=${path.resolve(m.path)}`);
    args.push("--host", this.host, "--port", String(this.port), ...draftArgs(this.drafts), ...(this.options.extraArgs ?? []));
    // This process (the one that supervises, not a wrapper that started it): the runtime exits with it.
    args.push("--parent-pid", String(process.pid));
    const child = spawn(path.resolve(this.options.python), args, {
      cwd: path.resolve(this.options.packageDir),
      stdio: ["ignore", this.options.stdio ?? "inherit", this.options.stdio ?? "inherit"],
      // Out of the terminal's process group: Ctrl-C reaches the worker, which drains and then
      // stops the runtime, instead of the runtime dying under running generations.
      detached: true,
    });
    this.child = child;
    const startedAt = Date.now();
    try {
      // The temp dir is shared: never follow a link someone else put at this name.
      if (child.pid) {
        const fd = openSync(this.pidFile, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o600);
        try {
          writeSync(fd, `${child.pid}\n`);
        } finally {
          closeSync(fd);
        }
      }
    } catch (error) {
      log.warn("runtime:pidfile", error); // the parent-death link still holds
    }
    log.info("runtime:start", { pid: child.pid, models: this.options.models.map((m) => m.name), drafts: this.drafts });
    child.on("error", (error) => log.error("runtime:spawn", error));
    child.on("exit", (code, signal) => {
      this.child = null;
      this.forgetPid(child.pid);
      if (this.stopping || this.restarting) return;
      // A runtime that stayed up a while gets a fresh, short backoff.
      if (Date.now() - startedAt > 60_000) this.backoffMs = this.options.minBackoffMs ?? 1000;
      log.warn("runtime:exit", { code, signal, restartInMs: this.backoffMs });
      this.restartTimer = setTimeout(() => {
        this.restarts += 1;
        this.start();
      }, this.backoffMs);
      this.backoffMs = Math.min(this.backoffMs * 2, this.options.maxBackoffMs ?? 30_000);
    });
  }

  async healthy(): Promise<boolean> {
    try {
      const res = await fetch(new URL("/health", this.options.url), { signal: AbortSignal.timeout(1000) });
      return res.ok;
    } catch {
      return false;
    }
  }

  async waitHealthy(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await this.healthy()) return;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`the gpu-runtime did not become healthy within ${timeoutMs} ms`);
  }

  async stop(timeoutMs = 10_000): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    await this.terminate(timeoutMs);
  }

  /** Stops the runtime and starts it again with these drafts (the caller drains it first). */
  async restart(drafts: RuntimeDraft[], timeoutMs = 10_000): Promise<void> {
    if (this.stopping) return;
    this.restarting = true; // the exit handler must not schedule a restart of its own
    clearTimeout(this.restartTimer);
    try {
      await this.terminate(timeoutMs);
    } finally {
      this.restarting = false;
    }
    if (this.stopping) return; // stop() came meanwhile
    this.drafts = drafts;
    this.backoffMs = this.options.minBackoffMs ?? 1000;
    this.restarts += 1;
    this.start();
  }

  private forgetPid(pid: number | undefined): void {
    try {
      if (pid && readFileSync(this.pidFile, "utf8").trim() === String(pid)) rmSync(this.pidFile);
    } catch {
      // already gone, or another runtime's now
    }
  }

  /** Whether a restart would change what the runtime runs. */
  differsFrom(drafts: RuntimeDraft[]): boolean {
    return !sameDrafts(this.drafts, drafts);
  }

  private async terminate(timeoutMs: number): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    const late = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    await exited;
    clearTimeout(late);
  }
}

import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { log } from "../lib/log";
import { draftArgs, sameDrafts, type RuntimeDraft } from "../lib/models/drafts";

// Starts the gpu-runtime for `local` models and keeps it up: restarts it with backoff when it
// dies, and tells whoever waits when /health answers.

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
};

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

  start(): void {
    if (this.stopping || this.child) return;
    const url = new URL(this.options.url);
    const args = ["-m", "leitai_runtime"];
    for (const m of this.options.models) args.push("--model", `${m.name}=${path.resolve(m.path)}`);
    args.push("--host", url.hostname, "--port", url.port || "80", ...draftArgs(this.drafts), ...(this.options.extraArgs ?? []));
    const child = spawn(path.resolve(this.options.python), args, {
      cwd: path.resolve(this.options.packageDir),
      stdio: ["ignore", this.options.stdio ?? "inherit", this.options.stdio ?? "inherit"],
    });
    this.child = child;
    const startedAt = Date.now();
    log.info("runtime:start", { pid: child.pid, models: this.options.models.map((m) => m.name), drafts: this.drafts });
    child.on("error", (error) => log.error("runtime:spawn", error));
    child.on("exit", (code, signal) => {
      this.child = null;
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

// Keeps `npm run up`'s processes running: one that exits is started again after a backoff that
// doubles (1 s → 30 s) and starts over once a run has stayed up a minute; a one-shot process
// (the pre-generation printer) that finished cleanly is left finished. Only stop() ends them.
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

export type ServiceSpec = {
  name: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** always: started again whenever it exits; on-failure: a clean exit (code 0) ends it. */
  restart: "always" | "on-failure";
};

export type SupervisorOptions = {
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** A run that lasted this long resets the backoff. */
  stableMs?: number;
  /** SIGTERM first; SIGKILL after this long. */
  stopGraceMs?: number;
  /** Where "[up] …" lines go. */
  say?: (line: string) => void;
  /** Where the services' own lines go, prefixed with their name; default this process's stdout/stderr. */
  forward?: (name: string, line: string, stream: "stdout" | "stderr") => void;
};

type Service = {
  spec: ServiceSpec;
  child: ChildProcess | null;
  backoffMs: number;
  timer?: NodeJS.Timeout;
  starts: number;
  done: boolean;
};

/** "1 s", "0.25 s": how the log says a delay. */
export function seconds(ms: number): string {
  return `${ms >= 1000 ? Math.round(ms / 1000) : ms / 1000} s`;
}

export class ProcessSupervisor {
  private readonly services = new Map<string, Service>();
  private stopping = false;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly stableMs: number;
  private readonly stopGraceMs: number;
  private readonly say: (line: string) => void;
  private readonly forward: NonNullable<SupervisorOptions["forward"]>;

  constructor(options: SupervisorOptions = {}) {
    this.minBackoffMs = options.minBackoffMs ?? 1000;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.stableMs = options.stableMs ?? 60_000;
    this.stopGraceMs = options.stopGraceMs ?? 30_000;
    this.say = options.say ?? ((line) => console.log(`[up] ${line}`));
    this.forward = options.forward ?? ((name, line, stream) => (stream === "stdout" ? process.stdout : process.stderr).write(`[${name}] ${line}\n`));
  }

  add(spec: ServiceSpec): void {
    if (this.services.has(spec.name)) throw new Error(`a service called ${spec.name} runs already`);
    const service: Service = { spec, child: null, backoffMs: this.minBackoffMs, starts: 0, done: false };
    this.services.set(spec.name, service);
    this.launch(service);
  }

  /** The pid of each service's current run (undefined while it waits to be started again). */
  pid(name: string): number | undefined {
    return this.services.get(name)?.child?.pid;
  }

  /** How many times each service was started. */
  starts(name: string): number {
    return this.services.get(name)?.starts ?? 0;
  }

  private launch(service: Service): void {
    if (this.stopping) return;
    const { spec } = service;
    // The IPC channel closes when this process dies however it dies (even SIGKILL): the web
    // server and the worker leave on its "disconnect" instead of living on as orphans.
    const child = spawn(spec.command, spec.args, { cwd: spec.cwd, env: spec.env, stdio: ["ignore", "pipe", "pipe", "ipc"] });
    service.child = child;
    service.starts += 1;
    const startedAt = Date.now();
    for (const stream of ["stdout", "stderr"] as const) {
      createInterface({ input: child[stream]! }).on("line", (line) => {
        if (line.trim()) this.forward(spec.name, line, stream);
      });
    }
    let ended = false;
    const end = (how: string, clean: boolean) => {
      if (ended) return;
      ended = true;
      service.child = null;
      if (this.stopping) return;
      if (clean && spec.restart === "on-failure") {
        service.done = true;
        this.say(`${spec.name} finished`);
        return;
      }
      if (Date.now() - startedAt >= this.stableMs) service.backoffMs = this.minBackoffMs;
      const delay = service.backoffMs;
      service.backoffMs = Math.min(service.backoffMs * 2, this.maxBackoffMs);
      this.say(`${spec.name} exited (${how}); restarting in ${seconds(delay)}`);
      service.timer = setTimeout(() => this.launch(service), delay);
    };
    // An error is an exit only when the process never started; a failed kill() of a running one is not.
    child.on("error", (error) => {
      if (child.pid === undefined) end(error.message, false);
    });
    child.on("exit", (code, signal) => end(signal ?? `code ${code}`, code === 0));
  }

  /** SIGKILL to every service at once (a second Ctrl-C: the operator will not wait). */
  killAll(): void {
    this.stopping = true;
    for (const service of this.services.values()) {
      clearTimeout(service.timer);
      service.child?.kill("SIGKILL");
    }
  }

  /** SIGTERM to every service (SIGKILL after the grace period); resolves once all have exited. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      [...this.services.values()].map((service) => {
        clearTimeout(service.timer);
        const child = service.child;
        if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
        return new Promise<void>((resolve) => {
          const late = setTimeout(() => {
            this.say(`${service.spec.name} did not stop within ${seconds(this.stopGraceMs)}; killing it`);
            child.kill("SIGKILL");
          }, this.stopGraceMs);
          child.once("exit", () => {
            clearTimeout(late);
            resolve();
          });
          child.kill("SIGTERM");
        });
      }),
    );
  }
}

import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ProcessSupervisor, seconds, type ServiceSpec } from "@/scripts/lib/supervise";

// `npm run up`'s supervision with real (tiny) node processes: restarts with a doubling backoff
// that starts over after a stable run, one-shot processes left alone once they succeed, and a
// stop that ends everything and restarts nothing.

const supervisors: ProcessSupervisor[] = [];
afterEach(async () => {
  await Promise.all(supervisors.splice(0).map((s) => s.stop()));
});

const MAX_BACKOFF_MS = 160;

function setup(options: { stableMs?: number; stopGraceMs?: number } = {}) {
  const lines: string[] = [];
  const output: string[] = [];
  const supervisor = new ProcessSupervisor({
    minBackoffMs: 40, maxBackoffMs: MAX_BACKOFF_MS, stableMs: options.stableMs ?? 60_000, stopGraceMs: options.stopGraceMs ?? 5_000,
    say: (line) => lines.push(line),
    forward: (name, line) => output.push(`${name}: ${line}`),
  });
  supervisors.push(supervisor);
  return { supervisor, lines, output };
}

/** A node one-liner as a service. */
function service(name: string, code: string, restart: ServiceSpec["restart"] = "always", env: Record<string, string> = {}): ServiceSpec {
  return { name, command: process.execPath, args: ["-e", code], env: { ...process.env, ...env }, cwd: process.cwd(), restart };
}

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("ProcessSupervisor", () => {
  it("starts a crashed process again with a doubling backoff, capped, and says so", async () => {
    const { supervisor, lines, output } = setup();
    supervisor.add(service("crasher", "console.log('up'); process.exit(3)"));
    await until(() => supervisor.starts("crasher") >= 5, "five starts");
    expect(lines.slice(0, 4)).toEqual([
      "crasher exited (code 3); restarting in 0.04 s",
      "crasher exited (code 3); restarting in 0.08 s",
      "crasher exited (code 3); restarting in 0.16 s",
      "crasher exited (code 3); restarting in 0.16 s",
    ]);
    expect(output).toContain("crasher: up");
  });

  it("names the signal that killed a process", async () => {
    const { supervisor, lines } = setup();
    supervisor.add(service("victim", "setInterval(() => {}, 1000)"));
    await until(() => supervisor.pid("victim") !== undefined, "a pid");
    const first = supervisor.pid("victim")!;
    process.kill(first, "SIGKILL");
    await until(() => supervisor.starts("victim") === 2 && supervisor.pid("victim") !== undefined, "the restart");
    expect(lines).toEqual(["victim exited (SIGKILL); restarting in 0.04 s"]);
    expect(supervisor.pid("victim")).not.toBe(first);
  });

  it("starts the backoff over after a run that stayed up", async () => {
    // Far apart, so a slow node start on a loaded machine (seconds) never counts as stable.
    const { supervisor, lines } = setup({ stableMs: 6_000 });
    // Runs 1–3 fail at once; run 4 stays up past stableMs, then fails; run 5 fails at once.
    const dir = mkdtempSync(path.join(tmpdir(), "leitai-supervise-"));
    const counter = path.join(dir, "runs");
    const code = `
      const fs = require("fs"); const f = process.env.COUNTER;
      const n = (fs.existsSync(f) ? Number(fs.readFileSync(f, "utf8")) : 0) + 1; fs.writeFileSync(f, String(n));
      setTimeout(() => process.exit(1), n === 4 ? 7000 : 0);`;
    supervisor.add(service("flaky", code, "always", { COUNTER: counter }));
    await until(() => lines.length >= 5, "five exits", 40_000);
    expect(Number(readFileSync(counter, "utf8"))).toBeGreaterThanOrEqual(5);
    expect(lines.slice(0, 5).map((l) => l.replace(/.*restarting in /, ""))).toEqual(["0.04 s", "0.08 s", "0.16 s", "0.04 s", "0.08 s"]);
  }, 45_000);

  it("leaves a one-shot process that succeeded, and starts one that failed again", async () => {
    const { supervisor, lines } = setup();
    supervisor.add(service("printer", "process.exit(0)", "on-failure"));
    await until(() => lines.includes("printer finished"), "the printer to finish");
    supervisor.add(service("failing-printer", "process.exit(1)", "on-failure"));
    // Timers fire in the order they fall due: a wrong restart of the printer (due one backoff
    // after it exited) would come before the failing printer's restarts (each due a backoff after
    // a later exit).
    await until(() => supervisor.starts("failing-printer") >= 3, "the failed printer's restarts");
    expect(supervisor.starts("printer")).toBe(1);
  });

  it("stop() ends every process, SIGKILLs one that ignores SIGTERM, and restarts nothing", async () => {
    const { supervisor, lines, output } = setup({ stopGraceMs: 300 });
    supervisor.add(service("polite", "process.on('SIGTERM', () => process.exit(0)); console.log('ready'); setInterval(() => {}, 1000)"));
    supervisor.add(service("stubborn", "process.on('SIGTERM', () => {}); console.log('ready'); setInterval(() => {}, 1000)"));
    supervisor.add(service("waiting", "process.exit(1)"));
    // "ready" comes after each one's SIGTERM handler is in place.
    await until(() => output.includes("polite: ready") && output.includes("stubborn: ready") && supervisor.starts("waiting") >= 1, "all started");
    const pids = [supervisor.pid("polite")!, supervisor.pid("stubborn")!];
    await supervisor.stop();
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
    expect(lines).toContain("stubborn did not stop within 0.3 s; killing it");
    const starts = supervisor.starts("waiting");
    // A restart scheduled before stop() falls due within the longest backoff, and timers fire in
    // the order they fall due: one due after that sees whether any happened.
    await new Promise((r) => setTimeout(r, MAX_BACKOFF_MS + 1));
    expect(supervisor.starts("waiting")).toBe(starts);
  });

  it("a service leaves when its supervisor dies, even by SIGKILL (the IPC channel closes)", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "leitai-supervise-"));
    const pidFile = path.join(dir, "child.pid");
    const parent = path.join(dir, "parent.ts");
    writeFileSync(parent, `
      import { ProcessSupervisor } from ${JSON.stringify(path.resolve("scripts/lib/supervise.ts"))};
      const supervisor = new ProcessSupervisor({ say: () => {}, forward: () => {} });
      supervisor.add({ name: "service", command: process.execPath, cwd: process.cwd(), env: process.env, restart: "always", args: ["-e",
        "require('fs').writeFileSync(process.env.PID_FILE, String(process.pid)); process.on('disconnect', () => process.exit(0)); setInterval(() => {}, 1000)"] });
    `);
    const supervisorProcess = spawn(process.execPath, ["--import", "tsx", parent], { stdio: "ignore", env: { ...process.env, PID_FILE: pidFile } });
    await until(() => existsSync(pidFile) && readFileSync(pidFile, "utf8").length > 0, "the service to start", 20_000);
    const child = Number(readFileSync(pidFile, "utf8"));
    supervisorProcess.kill("SIGKILL");
    const alive = () => {
      try {
        process.kill(child, 0);
        return !readFileSync(`/proc/${child}/status`, "utf8").includes("zombie");
      } catch {
        return false;
      }
    };
    await until(() => !alive(), "the orphaned service to leave", 20_000);
  }, 45_000);

  it("says delays in whole seconds from one second up", () => {
    expect(seconds(1000)).toBe("1 s");
    expect(seconds(2000)).toBe("2 s");
    expect(seconds(30_000)).toBe("30 s");
    expect(seconds(250)).toBe("0.25 s");
  });
});

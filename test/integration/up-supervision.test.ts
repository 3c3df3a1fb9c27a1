import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import { createAndEnqueue } from "@/lib/generations";
import { DEMO_MODELS, REAL_DEMO_MODELS } from "@/lib/models/demo";
import { DEFAULT_GENERATION_PARAMS } from "@/lib/pipeline/contracts";
import { closeQueues } from "@/lib/pipeline/queues";
import { processAlive, waitForFreePort } from "@/workers/runtime-supervisor";
import { finishedGeneration, waitFor } from "./pipeline/helpers";
import { freePort, ROOT, SLOW_CASE_MS } from "./support/processes";

// `npm run up` for real, against this run's database and Redis (so it starts no services), with
// the built site as it is, no pre-generation and a runtime serving one tiny demo model: SIGKILL
// of the worker or of the web server is survived (restarted, the arena serves again, no orphan
// runtime, the runtime's port reused), and SIGINT to npm's own pid stops every process it started.

type Proc = { pid: number; ppid: number; pgrp: number; args: string[] };

/**
 * up registers the demo models in this run's database; other files share it and must not draw
 * them into their battles, so they go before and after (with the test's one answer).
 */
async function removeDemoModels() {
  const slugs = [...DEMO_MODELS.map((d) => d.slug), ...REAL_DEMO_MODELS.map((m) => m.slug)];
  const ids = (await db.model.findMany({ where: { slug: { in: slugs } }, select: { id: true } })).map((m) => m.id);
  await db.generation.deleteMany({ where: { modelId: { in: ids } } });
  await db.pregenRun.deleteMany({ where: { modelId: { in: ids } } });
  await db.model.deleteMany({ where: { id: { in: ids } } });
}

function processes(): Proc[] {
  const out: Proc[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (fields[0] === "Z") continue; // dead, waiting to be reaped
      const args = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").filter(Boolean);
      out.push({ pid: Number(entry), ppid: Number(fields[1]), pgrp: Number(fields[2]), args });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** The one child of `parent` whose command line has `marker`, if running. */
function childWith(parent: number | undefined, marker: string): number | undefined {
  return processes().find((p) => p.ppid === parent && p.args.some((a) => a.includes(marker)))?.pid;
}

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(3000) })).ok;
  } catch {
    return false;
  }
}

describe("npm run up supervises the arena", { timeout: SLOW_CASE_MS }, () => {
  let npm: ChildProcess;
  let exited: Promise<number | null>;
  const output: string[] = [];
  const ports = { site: 0, runtime: 0, health: 0 };
  const stateDir = mkdtempSync(path.join(tmpdir(), "leitai-up-"));
  const site = () => `http://127.0.0.1:${ports.site}`;
  const upLines = () => output.join("").replace(/\x1b\[[0-9;]*m/g, "");
  const upPid = () => childWith(npm.pid, "scripts/up.ts");

  beforeAll(async () => {
    // up.sh reinstalls node_modules when package-lock.json is newer: never from a test.
    const lock = statSync(path.join(ROOT, "package-lock.json")).mtimeMs;
    const installed = statSync(path.join(ROOT, "node_modules/.package-lock.json")).mtimeMs;
    if (lock > installed) throw new Error("node_modules is older than package-lock.json: run npm ci first");
    await removeDemoModels();
    ports.site = await freePort();
    ports.runtime = await freePort();
    ports.health = await freePort();
    npm = spawn("npm", ["run", "up"], {
      cwd: ROOT,
      env: {
        ...process.env,
        PORT: String(ports.site),
        LEITAI_RUNTIME_PORT: String(ports.runtime),
        LEITAI_WORKER_HEALTH_PORT: String(ports.health),
        LEITAI_STATE_DIR: stateDir,
        LEITAI_UP_PREGEN: "false",
        LEITAI_UP_BUILD: "never",
        // One tiny random demo model (up writes it into the state dir before the worker starts).
        LEITAI_RUNTIME_MODELS: `demo-alpaca-a=${path.join(stateDir, "models", "demo-alpaca-a")}`,
        LEITAI_RUNTIME_ARGS: "--device cpu --max-num-seqs 4 --kv-blocks 256 --log-level warning",
        LEITAI_WORKER_SHUTDOWN_MS: "2000",
        npm_config_update_notifier: "false",
      },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true, // its own process group: what is left in it at the end was left behind
    });
    npm.stdout!.on("data", (d) => output.push(String(d)));
    npm.stderr!.on("data", (d) => output.push(String(d)));
    exited = new Promise((resolve) => npm.once("exit", (code) => resolve(code)));
    const tail = () => upLines().slice(-1500);
    await waitFor(() => answers(`${site()}/api/health`), 180_000, `the site (${tail()})`);
    await waitFor(() => answers(`http://127.0.0.1:${ports.health}/healthz/ready`), 120_000, `the worker (${tail()})`);
  });

  afterAll(async () => {
    try {
      process.kill(-npm.pid!, "SIGKILL");
    } catch {
      // stopped, as it should be
    }
    rmSync(path.join(tmpdir(), `leitai-runtime-127.0.0.1-${ports.runtime}.pid`), { force: true });
    rmSync(stateDir, { recursive: true, force: true });
    await closeQueues();
    await removeDemoModels();
  });

  it("starts a SIGKILLed worker again; its runtime went with it and the new one serves on the same port", async () => {
    const worker = childWith(upPid(), "workers/main.ts")!;
    const runtime = childWith(worker, "leitai_runtime")!;
    expect(worker && runtime).toBeTruthy();
    process.kill(worker, "SIGKILL");

    await waitFor(async () => !processAlive(runtime), 10_000, "the runtime to exit with its worker");
    await waitFor(async () => upLines().includes("worker exited (SIGKILL); restarting in 1 s"), 5_000, "up's log line");
    const replacement = await waitFor(async () => {
      const pid = childWith(upPid(), "workers/main.ts");
      return pid !== worker && pid;
    }, 10_000, "a new worker");
    await waitFor(() => answers(`http://127.0.0.1:${ports.health}/healthz/ready`), 120_000, "the new worker to be ready");
    const newRuntime = childWith(replacement, "leitai_runtime");
    expect(newRuntime).toBeDefined();
    expect(await answers(`http://127.0.0.1:${ports.runtime}/health`)).toBe(true);
    expect(upLines()).not.toContain("address already in use");

    // The arena works again: an answer from the demo model through the new worker and runtime.
    const model = await db.model.findUniqueOrThrow({ where: { slug: "demo-alpaca-a" } });
    const generation = await createAndEnqueue({
      modelId: model.id, purpose: "test", messages: [{ role: "user", content: "hello" }],
      params: { ...DEFAULT_GENERATION_PARAMS, temperature: 0, maxTokens: 8 },
    });
    expect((await finishedGeneration(generation.id, 60_000)).status).toBe("completed");
  });

  it("starts a SIGKILLed web server again", async () => {
    const web = childWith(upPid(), "scripts/web.ts")!;
    expect(web).toBeDefined();
    process.kill(web, "SIGKILL");
    await waitFor(async () => upLines().includes("web exited (SIGKILL); restarting in 1 s"), 10_000, "up's log line");
    await waitFor(async () => {
      const pid = childWith(upPid(), "scripts/web.ts");
      return pid !== undefined && pid !== web && (await answers(`${site()}/api/health`));
    }, 60_000, "the new web server to answer");
    expect((await fetch(`${site()}/`)).status).toBe(200);
  });

  it("stops everything on SIGINT to npm's own pid: no process left in its group, every port free", async () => {
    expect(processes().filter((p) => p.pgrp === npm.pid).length).toBeGreaterThanOrEqual(4); // npm, up, web, worker
    // The runtime runs in a group of its own (the worker stops it after draining).
    const runtime = childWith(childWith(upPid(), "workers/main.ts"), "leitai_runtime")!;
    expect(runtime).toBeDefined();
    process.kill(npm.pid!, "SIGINT");
    const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r("still running"), 60_000))]);
    expect(code, upLines().slice(-1500)).toBe(0);
    expect(upLines()).toContain("[up] stopped");
    await waitFor(async () => processes().every((p) => p.pgrp !== npm.pid), 5_000, "the group to be empty");
    expect(processAlive(runtime)).toBe(false);
    for (const port of [ports.site, ports.runtime, ports.health]) expect(await waitForFreePort("127.0.0.1", port, 5_000)).toBe(true);
  });
});

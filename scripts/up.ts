// `npm run up`: brings the whole arena up on this machine — dependencies, PostgreSQL and
// Redis (unless DATABASE_URL / REDIS_URL are given), migrations, demo data, the site on
// :3000, the worker process and the gpu-runtime with the demo models (two random ones and the real
// SmolLM2-135M-Instruct) — keeps them running (a process that dies is started again), and stops
// it all on Ctrl-C, or on SIGINT / SIGTERM sent to this process.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { demoRuntimeModels } from "./lib/demo-paths";
import { resolveLocalEnv, ROOT, STATE_DIR } from "./lib/local-env";
import { ProcessSupervisor } from "./lib/supervise";

const PORT = Number(process.env.PORT ?? 3000);
const RUNTIME_PORT = Number(process.env.LEITAI_RUNTIME_PORT ?? 8000);
// LEITAI_UP_PREGEN=false: no pre-generation of the demo answers at start (the admin can start it).
const PREGEN = process.env.LEITAI_UP_PREGEN !== "false";
// LEITAI_UP_BUILD=never: use the build there is, even when sources are newer (tests that share one).
const BUILD = process.env.LEITAI_UP_BUILD === "never" ? "never" : "auto";
const DIST_DIR = process.env.NEXT_DIST_DIR || ".next";
// On Ctrl-C the worker lets running generations finish for LEITAI_WORKER_SHUTDOWN_MS, then stops
// its gpu-runtime; only after that and a margin does a process get SIGKILL.
const STOP_GRACE_MS = Number(process.env.LEITAI_WORKER_SHUTDOWN_MS ?? 15_000) + 15_000;

function say(message: string) {
  console.log(`\x1b[1m[up]\x1b[0m ${message}`);
}

const supervisor = new ProcessSupervisor({ say, stopGraceMs: STOP_GRACE_MS });
let usesLocalServices = false;
let servicesStarted = false;
let step: ChildProcess | null = null;
let stopping = false;

/** A set-up step; it runs in the background so a signal can stop it. */
async function run(command: string, args: string[], env: NodeJS.ProcessEnv, what: string): Promise<void> {
  say(what);
  // A group of its own, so stop() ends the step with whatever it started (prisma, next build…).
  const child = spawn(command, args, { cwd: ROOT, env, stdio: "inherit", detached: true });
  step = child;
  const code = await new Promise<number | string>((resolve) => {
    child.on("error", (error) => resolve(error.message));
    child.on("exit", (c, signal) => resolve(signal ?? c ?? 1));
  });
  step = null;
  if (stopping) return new Promise(() => undefined); // stop() finishes and exits
  if (code !== 0) {
    console.error(`[up] failed: ${what} (${command} ${args.join(" ")} exited with ${code})`);
    await stop(1);
  }
}

function newestMtime(dir: string): number {
  let newest = 0;
  if (!existsSync(dir)) return newest;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name.startsWith(".")) continue;
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

function buildIsStale(): boolean {
  const buildId = path.join(ROOT, DIST_DIR, "BUILD_ID");
  if (!existsSync(buildId)) return true;
  const built = statSync(buildId).mtimeMs;
  const sources = ["app", "lib", "components", "prisma"].map((d) => newestMtime(path.join(ROOT, d)));
  const files = ["package-lock.json", "next.config.js"].map((f) => statSync(path.join(ROOT, f)).mtimeMs);
  return Math.max(...sources, ...files) > built;
}

async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    say("stopping…");
    const current = step;
    if (current?.pid && current.exitCode === null && current.signalCode === null) {
      const group = -current.pid;
      const ended = new Promise((resolve) => current.once("exit", resolve));
      const signal = (name: NodeJS.Signals) => {
        try {
          process.kill(group, name);
        } catch {
          // it has just ended
        }
      };
      signal("SIGTERM");
      const late = setTimeout(() => signal("SIGKILL"), 10_000);
      await ended;
      clearTimeout(late);
    }
    await supervisor.stop();
    if (usesLocalServices && servicesStarted) spawnSync("bash", ["scripts/services.sh", "stop"], { cwd: ROOT, stdio: "inherit" });
    say("stopped");
    process.exit(code);
  }
  // A second Ctrl-C while stopping: no more waiting for answers to finish.
  say("stopping at once");
  supervisor.killAll();
  return new Promise(() => undefined); // the first stop() exits
}

async function main() {
  const [major, minor] = process.versions.node.split(".").map(Number);
  if (major! < 20 || (major === 20 && minor! < 9)) {
    console.error(`[up] Node ${process.versions.node} is too old; Leitai needs Node ≥ 20.9`);
    process.exit(1);
  }
  // From the start, so a signal during set-up stops the step under way and the services.
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => void stop(0));

  mkdirSync(STATE_DIR, { recursive: true });
  const resolved = resolveLocalEnv({ mode: "up", port: PORT });
  const env: NodeJS.ProcessEnv = { ...resolved.env, NODE_ENV: "production", LEITAI_RUNTIME_URL: `http://127.0.0.1:${RUNTIME_PORT}` };
  usesLocalServices = resolved.usesLocalServices;

  await run("bash", ["scripts/python-env.sh"], env, "checking the gpu-runtime's Python environment");
  if (usesLocalServices) {
    servicesStarted = true;
    await run("bash", ["scripts/services.sh", "start"], env, "starting PostgreSQL and Redis");
  }
  await run("node_modules/.bin/prisma", ["migrate", "deploy"], env, "applying migrations");
  await run("node_modules/.bin/tsx", ["prisma/seed.ts"], env, "seeding categories, demo questions and the admin");
  await run("node_modules/.bin/tsx", ["scripts/demo-models.ts"], env, "writing and registering the demo models (two random, one real under two sampling settings)");
  if (BUILD === "auto" && buildIsStale()) await run("node_modules/.bin/next", ["build"], env, "building the site");
  if (!existsSync(path.join(ROOT, DIST_DIR, "BUILD_ID"))) {
    console.error(`[up] no build in ${DIST_DIR} (LEITAI_UP_BUILD=never): run npm run build first`);
    await stop(1);
  }

  // node --import tsx, not the tsx wrapper: signals reach each process itself (the worker drains).
  const node = (script: string, ...args: string[]) => [process.execPath, ["--import", "tsx", script, ...args]] as const;
  const [webCommand, webArgs] = node("scripts/web.ts", "-p", String(PORT));
  supervisor.add({ name: "web", command: webCommand, args: [...webArgs], env, cwd: ROOT, restart: "always" });
  // The worker supervises the gpu-runtime (on CPU here) that serves the demo models; the real
  // model's two arena models share one served model. The runtime exits with its worker.
  const [workerCommand, workerArgs] = node("workers/main.ts");
  supervisor.add({
    name: "worker", command: workerCommand, args: [...workerArgs], cwd: ROOT, restart: "always",
    env: {
      ...env,
      LEITAI_RUNTIME_MODELS: env.LEITAI_RUNTIME_MODELS ?? demoRuntimeModels(),
      LEITAI_RUNTIME_ARGS: env.LEITAI_RUNTIME_ARGS ?? "--device cpu --max-num-seqs 16",
    },
  });
  if (PREGEN) {
    // Restarted if it fails (it picks up the runs it started); left alone once every run is over.
    const [pregenCommand, pregenArgs] = node("scripts/demo-models.ts", "--pregen");
    supervisor.add({ name: "pregen", command: pregenCommand, args: [...pregenArgs], env, cwd: ROOT, restart: "on-failure" });
  }

  say(`site:    http://localhost:${PORT}   (battle: /battle, leaderboard: /leaderboard, admin: /admin)`);
  say(`runtime: http://127.0.0.1:${RUNTIME_PORT}  (OpenAI-compatible; demo models on CPU)`);
  say(`worker:  http://127.0.0.1:${env.LEITAI_WORKER_HEALTH_PORT ?? 3100}/healthz/ready  and /metrics`);
  say(`sign in: http://localhost:${PORT}/signin  (admin credentials were printed by the seed step on first run)`);
  say("a process that exits is started again; Ctrl-C stops everything");
}

main().catch((error) => {
  console.error(error);
  void stop(1);
});

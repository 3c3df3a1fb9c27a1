// `npm run up`: brings the whole arena up on this machine — dependencies, PostgreSQL and
// Redis (unless DATABASE_URL / REDIS_URL are given), migrations, demo data, the site on
// :3000, the worker process and the gpu-runtime with the demo models (two random ones and the real
// SmolLM2-135M-Instruct) — and stops it all on Ctrl-C.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { demoRuntimeModels } from "./lib/demo-paths";
import { resolveLocalEnv, ROOT, STATE_DIR } from "./lib/local-env";

const PORT = Number(process.env.PORT ?? 3000);
const RUNTIME_PORT = Number(process.env.LEITAI_RUNTIME_PORT ?? 8000);
// On Ctrl-C the worker lets running generations finish for LEITAI_WORKER_SHUTDOWN_MS, then stops
// its gpu-runtime: a SIGKILL before that would leave the runtime running (the real model's long
// pre-generation answers are usually mid-way).
const STOP_GRACE_MS = Number(process.env.LEITAI_WORKER_SHUTDOWN_MS ?? 15_000) + 15_000;
const children: { name: string; child: ChildProcess }[] = [];
let stopping = false;

function say(message: string) {
  console.log(`\x1b[1m[up]\x1b[0m ${message}`);
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv, what: string) {
  say(what);
  const result = spawnSync(command, args, { cwd: ROOT, env, stdio: "inherit" });
  if (result.status !== 0) {
    console.error(`[up] failed: ${what} (${command} ${args.join(" ")} exited with ${result.status})`);
    process.exit(1);
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
  const buildId = path.join(ROOT, ".next", "BUILD_ID");
  if (!existsSync(buildId)) return true;
  const built = statSync(buildId).mtimeMs;
  const sources = ["app", "lib", "components", "prisma"].map((d) => newestMtime(path.join(ROOT, d)));
  const files = ["package-lock.json", "next.config.js"].map((f) => statSync(path.join(ROOT, f)).mtimeMs);
  return Math.max(...sources, ...files) > built;
}

function start(name: string, command: string, args: string[], env: NodeJS.ProcessEnv, { oneShot = false } = {}): ChildProcess {
  const child = spawn(command, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  const prefix = `[${name}] `;
  const forward = (stream: NodeJS.WritableStream) => (chunk: Buffer) => {
    for (const line of chunk.toString().split("\n")) if (line.trim()) stream.write(prefix + line + "\n");
  };
  child.stdout?.on("data", forward(process.stdout));
  child.stderr?.on("data", forward(process.stderr));
  child.on("exit", (code, signal) => {
    if (oneShot && code === 0) return;
    if (!stopping) {
      console.error(`[up] ${name} exited (${signal ?? code}); stopping everything`);
      void stopAll(1);
    }
  });
  children.push({ name, child });
  return child;
}

let usesLocalServices = false;

async function stopAll(code: number) {
  if (stopping) return;
  stopping = true;
  say("stopping…");
  await Promise.all(
    children.map(
      ({ child }) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const timer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
          child.once("exit", () => {
            clearTimeout(timer);
            resolve();
          });
          child.kill("SIGTERM");
        }),
    ),
  );
  if (usesLocalServices) spawnSync("bash", ["scripts/services.sh", "stop"], { cwd: ROOT, stdio: "inherit" });
  say("stopped");
  process.exit(code);
}

async function main() {
  const [major, minor] = process.versions.node.split(".").map(Number);
  if (major! < 20 || (major === 20 && minor! < 9)) {
    console.error(`[up] Node ${process.versions.node} is too old; Leitai needs Node ≥ 20.9`);
    process.exit(1);
  }
  mkdirSync(STATE_DIR, { recursive: true });
  const resolved = resolveLocalEnv({ mode: "up", port: PORT });
  const env: NodeJS.ProcessEnv = { ...resolved.env, NODE_ENV: "production", LEITAI_RUNTIME_URL: `http://127.0.0.1:${RUNTIME_PORT}` };
  usesLocalServices = resolved.usesLocalServices;

  run("bash", ["scripts/python-env.sh"], env, "checking the gpu-runtime's Python environment");
  if (usesLocalServices) run("bash", ["scripts/services.sh", "start"], env, "starting PostgreSQL and Redis");
  run("node_modules/.bin/prisma", ["migrate", "deploy"], env, "applying migrations");
  run("node_modules/.bin/tsx", ["prisma/seed.ts"], env, "seeding categories, demo questions and the admin");
  run("node_modules/.bin/tsx", ["scripts/demo-models.ts"], env, "writing and registering the demo models (two random, one real under two sampling settings)");
  if (buildIsStale()) run("node_modules/.bin/next", ["build"], env, "building the site");

  process.on("SIGINT", () => void stopAll(0));
  process.on("SIGTERM", () => void stopAll(0));

  start("web", process.execPath, ["--import", "tsx", "scripts/web.ts", "-p", String(PORT)], env);
  // The worker supervises the gpu-runtime (on CPU here) that serves the demo models; the real
  // model's two arena models share one served model.
  // node --import tsx (not the tsx wrapper) so SIGTERM reaches the worker itself and it drains.
  start("worker", process.execPath, ["--import", "tsx", "workers/main.ts"], {
    ...env,
    LEITAI_RUNTIME_MODELS: env.LEITAI_RUNTIME_MODELS ?? demoRuntimeModels(),
    LEITAI_RUNTIME_ARGS: env.LEITAI_RUNTIME_ARGS ?? "--device cpu --max-num-seqs 16",
  });
  start("pregen", "node_modules/.bin/tsx", ["scripts/demo-models.ts", "--pregen"], env, { oneShot: true });

  say(`site:    http://localhost:${PORT}   (battle: /battle, leaderboard: /leaderboard, admin: /admin)`);
  say(`runtime: http://127.0.0.1:${RUNTIME_PORT}  (OpenAI-compatible; demo models on CPU)`);
  say(`worker:  http://127.0.0.1:${env.LEITAI_WORKER_HEALTH_PORT ?? 3100}/healthz/ready  and /metrics`);
  say(`sign in: http://localhost:${PORT}/signin  (admin credentials were printed by the seed step on first run)`);
  say("Ctrl-C stops everything");
}

main().catch((error) => {
  console.error(error);
  void stopAll(1);
});

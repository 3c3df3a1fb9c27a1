// `npm run memory`: the resident memory of a running `npm run up`, part by part — the
// orchestrator (and npm above it), the web server, the worker, the gpu-runtime it supervises, the
// pre-generation printer while it runs, PostgreSQL and Redis. Each part is its process plus the
// processes it forked (VmRSS from /proc/<pid>/status, summed; "peak" sums each process's own
// VmHWM, its highest RSS so far). Prints a table and writes it with the machine and the date to
// bench/results/memory-<date>[-<label>].json.
//   npm run memory [-- --label NAME] [-- --no-write]
// Linux only (it reads /proc). PostgreSQL may be shared with other arenas: its backends serving
// other databases are left out (and counted in the notes). Pages shared between processes (a
// fork's copy-on-write pages, PostgreSQL's shared buffers) are counted once per process.
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";

const ROOT = path.resolve(__dirname, "..");
const MiB = 1024 * 1024;

type Proc = { pid: number; ppid: number; argv: string[]; rssBytes: number; peakBytes: number };
type Part = { name: string; pids: number[]; processes: number; rssMiB: number; peakMiB: number };

function read(file: string): string | null {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return null; // the process ended while we looked, or it is not ours to read
  }
}

function proc(pid: number): Proc | null {
  const stat = read(`/proc/${pid}/stat`);
  const status = read(`/proc/${pid}/status`);
  const cmdline = read(`/proc/${pid}/cmdline`);
  if (stat === null || status === null || cmdline === null) return null;
  // The command name in parentheses may hold spaces: the fields after its last ")" are plain.
  const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  const kiB = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0); // kernel threads have none
  return { pid, ppid, argv: cmdline.split("\0").filter(Boolean), rssBytes: kiB("VmRSS") * 1024, peakBytes: kiB("VmHWM") * 1024 };
}

function allProcs(): Map<number, Proc> {
  const procs = new Map<number, Proc>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const p = proc(Number(entry));
    if (p) procs.set(p.pid, p);
  }
  return procs;
}

function cwdOf(pid: number): string | null {
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return null;
  }
}

function environOf(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of (read(`/proc/${pid}/environ`) ?? "").split("\0")) {
    const eq = item.indexOf("=");
    if (eq > 0) out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

/** The pid listening on TCP `port` (from the socket inodes in /proc/net/tcp{,6} and each process's fds). */
function listener(port: number, procs: Map<number, Proc>): number | null {
  const inodes = new Set<string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of (read(table) ?? "").split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      // cols[1] is local address:port in hex, cols[3] the state (0A: LISTEN), cols[9] the inode.
      if (cols.length > 9 && cols[3] === "0A" && parseInt(cols[1]!.split(":").pop()!, 16) === port) inodes.add(cols[9]!);
    }
  }
  if (inodes.size === 0) return null;
  for (const pid of procs.keys()) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target = "";
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode && inodes.has(inode)) return pid;
    }
  }
  return null;
}

function parseUrl(url: string | undefined): URL | null {
  try {
    return url ? new URL(url) : null;
  } catch {
    return null;
  }
}

function portOf(url: string | undefined, fallback: number): number {
  return Number(parseUrl(url)?.port) || fallback;
}

function machine(): string {
  const cpuinfo = read("/proc/cpuinfo") ?? "";
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? "unknown CPU";
  const cores = (cpuinfo.match(/^processor\s*:/gm) ?? []).length;
  const memKiB = Number(/^MemTotal:\s+(\d+) kB/m.exec(read("/proc/meminfo") ?? "")?.[1] ?? 0);
  return `${model}, ${cores} cores, ${(memKiB / MiB).toFixed(1)} GiB RAM`;
}

/** What part of the arena a process under `npm run up` is, by its command line; null: not a part of its own. */
function partName(argv: string[]): string | null {
  const args = argv.join(" ");
  if (argv.some((a) => a.endsWith("scripts/up.ts"))) return "up (orchestrator)";
  if (argv.some((a) => a.endsWith("scripts/web.ts"))) return "web";
  if (argv.some((a) => a.endsWith("workers/main.ts"))) return "worker";
  if (/(^|\s)-m leitai_runtime(\s|$)/.test(args)) return "gpu-runtime";
  if (argv.some((a) => a.endsWith("scripts/demo-models.ts")) && argv.includes("--pregen")) return "pregen printer";
  return null;
}

/** The runtime's command line without paths: served model ids and options. */
function runtimeSettings(argv: string[]): { models: string[]; options: string } {
  const models: string[] = [];
  const options: string[] = [];
  const start = argv.indexOf("leitai_runtime") + 1;
  for (let i = start; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--model") models.push((argv[++i] ?? "").split("=")[0]!);
    else if (a === "--parent-pid") i++;
    else options.push(a);
  }
  return { models, options: options.join(" ") };
}

function main() {
  const { values } = parseArgs({ options: { label: { type: "string" }, "no-write": { type: "boolean", default: false } } });
  if (values.label !== undefined && !/^[\w.-]+$/.test(values.label)) {
    console.error(`[memory] --label takes letters, digits, ".", "_" and "-", got "${values.label}"`);
    process.exit(2);
  }
  const procs = allProcs();
  const up = [...procs.values()].find((p) => partName(p.argv) === "up (orchestrator)" && cwdOf(p.pid) === ROOT);
  if (!up) {
    console.error("[memory] no `npm run up` of this checkout is running; start it and wait until the demo is up");
    process.exit(1);
  }
  const children = new Map<number, number[]>();
  for (const p of procs.values()) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid]);

  // Each part: its process and every descendant that is not a part of its own.
  const parts = new Map<string, Part>();
  const add = (name: string, p: Proc, heads: boolean) => {
    const part = parts.get(name) ?? { name, pids: [], processes: 0, rssMiB: 0, peakMiB: 0 };
    if (heads) part.pids.push(p.pid);
    part.processes += 1;
    part.rssMiB += p.rssBytes / MiB;
    part.peakMiB += p.peakBytes / MiB;
    parts.set(name, part);
  };
  const walk = (pid: number, owner: string, skip: (p: Proc) => boolean = () => false, root = true) => {
    const p = procs.get(pid);
    if (!p || skip(p)) return;
    const own = partName(p.argv);
    add(own ?? owner, p, root || own !== null);
    for (const child of children.get(pid) ?? []) walk(child, own ?? owner, skip, false);
  };
  const parent = procs.get(up.ppid);
  if (parent && parent.argv.some((a) => /(^|\/)npm(-cli\.js)?( |$)/.test(a))) add("npm", parent, true);
  walk(up.pid, "up (orchestrator)");

  // PostgreSQL and Redis run on their own (daemons): found by the ports the worker was given.
  const workerPid = parts.get("worker")?.pids[0];
  const env = workerPid ? environOf(workerPid) : {};
  const database = decodeURIComponent(parseUrl(env.DATABASE_URL)?.pathname.slice(1) || "leitai");
  const notes: string[] = [];
  const pg = listener(portOf(env.DATABASE_URL, Number(process.env.LEITAI_PG_PORT ?? 54329)), procs);
  let otherBackends = 0;
  if (pg !== null) {
    walk(pg, "PostgreSQL", (p) => {
      // A backend's title: "postgres: USER DATABASE HOST(PORT) STATE"; background processes have no HOST.
      const db = /^postgres: \S+ (\S+) (?:\S+\(\d+\)|\[local\])/.exec(p.argv.join(" "))?.[1];
      const other = db !== undefined && db !== database;
      if (other) otherBackends += 1;
      return other;
    });
    if (otherBackends) notes.push(`PostgreSQL: ${otherBackends} backend(s) serving other databases than ${database} left out`);
  } else notes.push("PostgreSQL: nothing listens on its port");
  const redis = listener(portOf(env.REDIS_URL, Number(process.env.LEITAI_REDIS_PORT ?? 63790)), procs);
  if (redis !== null) walk(redis, "Redis");
  else notes.push("Redis: nothing listens on its port");
  if (!parts.has("gpu-runtime")) notes.push("gpu-runtime: not running (yet?)");

  const rows = [...parts.values()].map((p) => ({ ...p, rssMiB: Math.round(p.rssMiB), peakMiB: Math.round(p.peakMiB) }));
  const totalMiB = rows.reduce((sum, r) => sum + r.rssMiB, 0);
  const date = new Date().toISOString().slice(0, 10);
  const where = machine();
  const runtimePid = parts.get("gpu-runtime")?.pids[0];
  const runtime = runtimePid ? procs.get(runtimePid) : undefined;

  console.log(`\nresident memory of npm run up, ${where}, ${new Date().toISOString()}${values.label ? ` (${values.label})` : ""}\n`);
  console.log("| part | pid | processes | RSS MiB | peak MiB |");
  console.log("|---|---|---:|---:|---:|");
  for (const r of rows) console.log(`| ${r.name} | ${r.pids.join(" ")} | ${r.processes} | ${r.rssMiB} | ${r.peakMiB} |`);
  console.log(`| total | | ${rows.reduce((n, r) => n + r.processes, 0)} | ${totalMiB} | |`);
  for (const note of notes) console.log(`\nnote: ${note}`);

  if (!values["no-write"]) {
    const dir = path.join(ROOT, "bench", "results");
    if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `memory-${date}${values.label ? `-${values.label}` : ""}.json`);
    const result = {
      date, machine: where, label: values.label ?? null, measuredAt: new Date().toISOString(),
      runtime: runtime ? runtimeSettings(runtime.argv) : null,
      rows: rows.map(({ name, processes, rssMiB, peakMiB }) => ({ name, processes, rssMiB, peakMiB })), totalMiB, notes,
    };
    writeFileSync(file, JSON.stringify(result, null, 2) + "\n");
    console.log(`\nwritten to ${path.relative(ROOT, file)}`);
  }
}

main();

/**
 * Ratings benchmark: a seeded synthetic vote file (default 1,000,000 battles over 100
 * models with known strengths), rated in-process (parse and compute timed apart) and
 * by the CLI as a whole process. Prints a table, writes bench/results/ratings-<date>.json
 * and appends a row to BENCHMARKS.md "## Ratings".
 *   node --import tsx bench/ratings-bench.ts [--rows N] [--models M] [--rounds R] [--runs K] [--style-control] [--baseline CLI.cjs [--baseline-label TEXT]] [--no-record]
 * --style-control gives every vote answer style counts (longer answers win more often) and
 * rates with style control too (the CLI's --style-control): ratings-style-<date>.json and
 * "## Ratings with style control".
 * --baseline times another build of the CLI (the bundled .leitai/build/ratings.cjs of another
 * checkout) on the same file, its runs alternating with this one's so that the machine's drift
 * hits both alike; both bests go to the results file, the baseline named by --baseline-label
 * (say, its commit) rather than by its path.
 * --no-record only prints the table (for a check run that should leave no trace).
 * Each figure is the best of K runs (default 5). Parse and compute take the CLI's paths
 * (two threads when there are two CPUs), with workers running the bundled CLI.
 */
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { computeLeaderboardParallel, readVoteFileParallel, Rng, type ThreadOptions } from "../lib/ratings";

const TARGET_S = 1;
/** Style control fits a second, larger model (4 more parameters, per-battle features): its own target. */
const STYLE_TARGET_S = 2;
const ROOT = fileURLToPath(new URL("..", import.meta.url));

const { values } = parseArgs({
  options: {
    rows: { type: "string", default: "1000000" },
    models: { type: "string", default: "100" },
    rounds: { type: "string", default: "100" },
    runs: { type: "string", default: "5" },
    "style-control": { type: "boolean", default: false },
    "no-record": { type: "boolean", default: false },
    baseline: { type: "string" },
    "baseline-label": { type: "string", default: "baseline" },
  },
});
const styled = values["style-control"];
const target = styled ? STYLE_TARGET_S : TARGET_S;
const rows = Number(values.rows);
const models = Number(values.models);
const rounds = Number(values.rounds);
const runs = Number(values.runs);

/**
 * Battles between uniformly drawn pairs; strengths spread over ±400 points; 8% ties, 2% both
 * bad. With style control each side also gets answer tokens (50–1050), headers, list items and
 * bold spans, and the longer answer's odds grow by FastChat's length feature.
 */
function writeVotes(path: string): number[] {
  const rng = new Rng(20240601);
  const names = Array.from({ length: models }, (_, i) => `model-${String(i).padStart(3, "0")}`);
  const strength = names.map(() => 800 * rng.nextDouble() - 400);
  const fd = openSync(path, "w");
  let chunk: string[] = [];
  for (let v = 0; v < rows; v++) {
    const a = Math.floor(rng.nextDouble() * models);
    let b = Math.floor(rng.nextDouble() * (models - 1));
    if (b >= a) b++;
    const u = rng.nextDouble();
    const vote = `"modelA":"${names[a]}","modelB":"${names[b]}"`;
    let z = ((strength[a]! - strength[b]!) * Math.LN10) / 400;
    let style = "";
    if (styled) {
      const tokensA = 50 + Math.floor(rng.nextDouble() * 1000);
      const tokensB = 50 + Math.floor(rng.nextDouble() * 1000);
      const small = () => Math.floor(rng.nextDouble() * 6);
      z += (0.8 * (tokensA - tokensB)) / (tokensA + tokensB + 1);
      style = `,"tokensA":${tokensA},"headersA":${small()},"listsA":${small()},"boldA":${small()},"tokensB":${tokensB},"headersB":${small()},"listsB":${small()},"boldB":${small()}`;
    }
    const pA = 1 / (1 + Math.exp(-z));
    const winner = u < 0.08 ? "tie" : u < 0.1 ? "both_bad" : rng.nextDouble() < pA ? "A" : "B";
    chunk.push(`{${vote},"winner":"${winner}","at":${1_700_000_000_000 + v * 1000}${style}}`);
    if (chunk.length === 10_000) {
      writeSync(fd, chunk.join("\n") + "\n");
      chunk = [];
    }
  }
  if (chunk.length > 0) writeSync(fd, chunk.join("\n") + "\n");
  closeSync(fd);
  return strength;
}

/** CPU seconds (all threads) since `since`: on a busy machine, closer to the work than wall time. */
function cpuSeconds(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
}

/** Best of the runs: on a shared machine the other runs measure the neighbours. */
function best(xs: number[]): number {
  return Math.min(...xs);
}

/** Builds the bundled CLI (when stale) and returns it: the in-process runs use it as their worker script. */
function bundledCli(): string {
  const build = spawnSync("bash", ["scripts/ratings.sh", "--help"], { cwd: ROOT, encoding: "utf8" });
  if (build.status !== 0) throw new Error(`CLI build failed: ${build.stderr}`);
  return join(ROOT, ".leitai", "build", "ratings.cjs");
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "ratings-bench-"));
  try {
    const threads: ThreadOptions = { workerScript: bundledCli() };
    const file = join(dir, "votes.jsonl");
    writeVotes(file);

    const parse: number[] = [];
    const compute: number[] = [];
    const parseCpu: number[] = [];
    const computeCpu: number[] = [];
    for (let run = 0; run < runs; run++) {
      let t = performance.now();
      let cpuStart = process.cpuUsage();
      const table = await readVoteFileParallel(file, "leitai", { style: styled }, threads);
      parse.push((performance.now() - t) / 1000);
      parseCpu.push(cpuSeconds(cpuStart));
      t = performance.now();
      cpuStart = process.cpuUsage();
      await computeLeaderboardParallel(table, { bootstrapRounds: rounds, seed: 42, styleControl: styled }, threads);
      compute.push((performance.now() - t) / 1000);
      computeCpu.push(cpuSeconds(cpuStart));
    }

    const cli: number[] = [];
    const baseline: number[] = [];
    const flags = ["--input", file, "--format", "leitai", "--bootstrap", String(rounds), ...(styled ? ["--style-control"] : []), "--json"];
    const timed = (command: string, args: string[], into: number[]) => {
      const t = performance.now();
      const child = spawnSync(command, args, { cwd: ROOT, encoding: "utf8", maxBuffer: 64 << 20 });
      into.push((performance.now() - t) / 1000);
      if (child.status !== 0) throw new Error(`${command} ${args[0]} failed (${child.status}): ${child.stderr}`);
    };
    for (let run = 0; run < runs; run++) {
      if (values.baseline) timed(process.execPath, [values.baseline, ...flags], baseline);
      timed("bash", ["scripts/ratings.sh", ...flags], cli);
    }
    const startup = spawnSync(process.execPath, ["-e", "0"], { cwd: ROOT });
    if (startup.status !== 0) throw new Error("node did not start");
    const startupRuns: number[] = [];
    for (let run = 0; run < runs; run++) {
      const t = performance.now();
      spawnSync(process.execPath, ["-e", "0"], { cwd: ROOT });
      startupRuns.push((performance.now() - t) / 1000);
    }

    const date = new Date().toISOString().slice(0, 10);
    const cpu = /model name\s*:\s*(.+)/.exec(existsSync("/proc/cpuinfo") ? readFileSync("/proc/cpuinfo", "utf8") : "")?.[1] ?? cpus()[0]?.model ?? "unknown CPU";
    const machine = `${cpu.trim()}, ${cpus().length} cores, Node ${process.version}`;
    const load = loadavg()[0]!.toFixed(1);
    const result = {
      date,
      machine,
      rows,
      models,
      rounds,
      styleControl: styled,
      runs,
      loadAverage1m: Number(load),
      parseS: best(parse),
      parseCpuS: best(parseCpu),
      computeS: best(compute),
      computeCpuS: best(computeCpu),
      cliTotalS: best(cli),
      nodeTsxStartupS: best(startupRuns),
      targetS: target,
      pass: best(cli) <= target,
      ...(values.baseline ? { baseline: values["baseline-label"], baselineCliTotalS: best(baseline), baselineRunsS: baseline, cliRunsS: cli } : {}),
    };

    const f = (x: number) => x.toFixed(3);
    const header = ["rows", "models", "rounds", "parse s", "parse cpu s", "compute s", "compute cpu s", "total s (CLI)", "startup s", "target s", "pass"];
    const cells = [
      String(rows),
      String(models),
      String(rounds),
      f(result.parseS),
      f(result.parseCpuS),
      f(result.computeS),
      f(result.computeCpuS),
      f(result.cliTotalS),
      f(result.nodeTsxStartupS),
      String(target),
      result.pass ? "yes" : "no",
    ];
    const widths = header.map((h, i) => Math.max(h.length, cells[i]!.length));
    console.log(`ratings benchmark${styled ? " with style control" : ""} — ${machine}, load ${load} — best of ${runs}`);
    console.log(header.map((h, i) => h.padStart(widths[i]!)).join("  "));
    console.log(cells.map((c, i) => c.padStart(widths[i]!)).join("  "));
    if (values.baseline) {
      console.log(`baseline (${values["baseline-label"]}): best ${f(best(baseline))} s, this build ${f(best(cli))} s (${f(best(cli) / best(baseline))}×), runs alternating`);
      console.log(`  baseline runs: ${baseline.map(f).join(" ")}`);
      console.log(`  this build:    ${cli.map(f).join(" ")}`);
    }

    if (values["no-record"]) return;
    mkdirSync(join(ROOT, "bench", "results"), { recursive: true });
    writeFileSync(join(ROOT, "bench", "results", `ratings${styled ? "-style" : ""}-${date}.json`), JSON.stringify(result, null, 2) + "\n");
    appendBenchmarkRow(styled ? "## Ratings with style control" : "## Ratings", `| ${date} | ${machine} | ${load} | ${cells.join(" | ")} |`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

/** Adds a row under `heading` in BENCHMARKS.md, creating the section when missing. */
function appendBenchmarkRow(heading: string, row: string): void {
  const path = join(ROOT, "BENCHMARKS.md");
  const tableHead =
    "| date | machine | load | rows | models | rounds | parse s | parse cpu s | compute s | compute cpu s | total s (CLI) | startup s | target s | pass |\n" +
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|";
  let text = existsSync(path) ? readFileSync(path, "utf8") : "# Benchmarks\n";
  // The heading's whole line: "## Ratings" must not find "## Ratings with style control".
  if (!text.includes(`\n${heading}\n`)) text = `${text.trimEnd()}\n\n${heading}\n\n${tableHead}\n`;
  const start = text.indexOf(`\n${heading}\n`) + 1;
  const next = text.indexOf("\n## ", start + heading.length);
  const end = next < 0 ? text.length : next + 1;
  const section = text.slice(start, end).trimEnd() + "\n" + row + "\n";
  text = text.slice(0, start) + section + (next < 0 ? "" : "\n" + text.slice(end));
  writeFileSync(path, text);
}

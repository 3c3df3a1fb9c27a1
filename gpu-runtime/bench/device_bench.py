"""The GPU benchmark in one command: correctness vs transformers, a 7B-shaped model's decode
speed against the memory-bandwidth floor, throughput/TTFT vs transformers, kernel tests,
speculative decoding with a draft model.

    python3 -m bench.device_bench              # on the GPU machine (bench/device.sh)
    python3 -m bench.device_bench --cpu-smoke  # the same stages on CPU with tiny shapes

Each stage runs in its own process under a hard time limit, writing its results as it goes,
so a stage that hangs, runs out of memory or breaks the CUDA context costs only its own
budget. Prints a table last, writes bench/results/device-<date>-<gpu>.json and appends a
section to BENCHMARKS.md (not in --cpu-smoke mode, which writes to a temporary folder).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from .device_common import Recorder, log
from .device_report import markdown_section, table

ROOT = Path(__file__).resolve().parents[1]
# Seconds per stage, 470 in all: a run stays under 8 minutes.
STAGES = {"correctness": 60.0, "speed": 170.0, "profile": 50.0, "kernels": 90.0, "speculative": 100.0}


def run_stage(name: str, out: Path, smoke: bool, seconds: float) -> None:
    """In the child process: one stage, results recorded into `out` as they come."""
    import torch

    rec = Recorder(out)
    device = torch.device("cpu" if smoke else "cuda")
    if smoke:  # one thread: OpenMP barriers stall badly when other processes share the cores
        torch.set_num_threads(1)
    import transformers
    import triton

    from .device_common import device_name

    rec.put("env", {"device": device_name(device), "torch": torch.__version__, "triton": triton.__version__,
                    "transformers": transformers.__version__, "python": sys.version.split()[0]})
    if name == "correctness":
        from . import stage_correctness
        stage_correctness.run(rec, device, smoke)
    elif name == "speed":
        from . import stage_speed
        stage_speed.run(rec, device, smoke)
    elif name == "kernels":
        from . import stage_kernels
        stage_kernels.run(rec, device, smoke, seconds - 15)
    elif name == "profile":
        from . import stage_profile
        stage_profile.run(rec, device, smoke)
    elif name == "speculative":
        from . import stage_speculative
        stage_speculative.run(rec, device, smoke)
    else:
        raise SystemExit(f"unknown stage {name!r}; valid: {', '.join(STAGES)}")


def launch(name: str, folder: Path, smoke: bool, seconds: float) -> dict[str, Any]:
    """Run a stage in a child process; whatever it recorded survives a crash or the time limit."""
    out = folder / f"stage-{name}.json"
    cmd = [sys.executable, "-m", "bench.device_bench", "--stage", name, "--stage-out", str(out),
           "--stage-seconds", str(seconds)] + (["--cpu-smoke"] if smoke else [])
    log(f"stage {name}: start (limit {seconds:.0f}s)")
    t = time.monotonic()
    status = "ok"
    try:
        proc = subprocess.run(cmd, cwd=ROOT, timeout=seconds)
        if proc.returncode != 0:
            status = f"failed (exit {proc.returncode})"
    except subprocess.TimeoutExpired:
        status = f"timed out after {seconds:.0f}s"
    data = json.loads(out.read_text()) if out.exists() else {}
    data["status"] = status
    data["seconds"] = time.monotonic() - t
    log(f"stage {name}: {status} in {data['seconds']:.0f}s")
    return data


def parse_timeouts(spec: str) -> dict[str, float]:
    limits = dict(STAGES)
    for part in filter(None, spec.split(",")):
        key, _, value = part.partition("=")
        if key not in STAGES:
            raise SystemExit(f"unknown stage {key!r} in --timeouts; valid: {', '.join(STAGES)}")
        limits[key] = float(value)
    return limits


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cpu-smoke", action="store_true", default=os.environ.get("DEVICE") == "cpu",
                    help="tiny shapes on CPU (also DEVICE=cpu): checks the script end to end in a minute or two")
    ap.add_argument("--only", default=",".join(STAGES), help="comma-separated stages to run, in order")
    ap.add_argument("--timeouts", default="", help="per-stage limits in seconds, e.g. speed=300,kernels=60")
    ap.add_argument("--no-write", action="store_true", help="print only: no results file, no BENCHMARKS.md")
    ap.add_argument("--stage", help=argparse.SUPPRESS)
    ap.add_argument("--stage-out", help=argparse.SUPPRESS)
    ap.add_argument("--stage-seconds", type=float, default=60.0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.stage:
        try:
            run_stage(args.stage, Path(args.stage_out), args.cpu_smoke, args.stage_seconds)
        except Exception:  # print it and exit non-zero; the parent carries on with the next stage
            traceback.print_exc()
            sys.exit(1)
        return
    limits = parse_timeouts(args.timeouts)
    started = dt.datetime.now(dt.UTC)
    log(f"device benchmark ({'CPU smoke' if args.cpu_smoke else 'GPU'}), stages {args.only}")
    extra = os.environ.get("RESULTS_DIR")  # a second place for the results, e.g. one that is fetched back
    with tempfile.TemporaryDirectory() as tmp:
        # Stage files go to RESULTS_DIR when given, so a run cut short still returns what it measured.
        folder = Path(extra) / "stages" if extra else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        results: dict[str, Any] = {}
        for name in filter(None, args.only.split(",")):
            if name not in STAGES:
                raise SystemExit(f"unknown stage {name!r}; valid: {', '.join(STAGES)}")
            results[name] = launch(name, folder, args.cpu_smoke, limits[name])
    env: dict[str, Any] = next((r["env"] for r in results.values() if "env" in r), {})
    meta = {"date": started.strftime("%Y-%m-%d %H:%M UTC"), "device": env.get("device", "unknown"),
            "smoke": args.cpu_smoke, "env": env, "limits_s": limits}
    report = {"meta": meta, "stages": results}
    print()
    print(table(report))
    slug = re.sub(r"[^a-z0-9]+", "-", meta["device"].lower()).strip("-") or "gpu"
    name = f"device-{started.strftime('%Y-%m-%d-%H%M')}-{slug}"
    body, section = json.dumps(report, indent=2, default=str) + "\n", markdown_section(report)
    if extra:
        Path(extra).mkdir(parents=True, exist_ok=True)
        (Path(extra) / f"{name}.json").write_text(body)
        (Path(extra) / f"{name}.md").write_text(section)
        print(f"\ncopied the results and the BENCHMARKS.md section to {extra}")
    if args.no_write or args.cpu_smoke:
        out = Path(tempfile.gettempdir()) / "leitai-device-smoke.json"
        out.write_text(body)
        print(f"\nsmoke/no-write run: results in {out}; BENCHMARKS.md untouched")
        return
    out = ROOT / "bench" / "results" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(body)
    with (ROOT / "BENCHMARKS.md").open("a", encoding="utf-8") as f:
        f.write("\n" + section)
    print(f"\nwrote {out.relative_to(ROOT)} and appended a section to BENCHMARKS.md")


if __name__ == "__main__":
    main()

"""The prepared GPU benchmark runs end to end: a session lent a GPU has minutes, not hours, so
the script must not meet its first bug there. DEVICE=cpu runs every stage on tiny shapes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_device_script_runs_every_stage_on_cpu(tmp_path):
    env = dict(os.environ, DEVICE="cpu", PYTHON=sys.executable, RESULTS_DIR=str(tmp_path), OMP_NUM_THREADS="2")
    proc = subprocess.run(["bash", str(ROOT / "bench" / "device.sh"), "--no-write"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    (results,) = tmp_path.glob("device-*.json")
    report = json.loads(results.read_text())
    assert report["meta"]["smoke"] is True
    stages = report["stages"]
    assert {name: stage["status"] for name, stage in stages.items()} == {
        name: "ok" for name in ("correctness", "speed", "profile", "kernels", "speculative")}
    correctness = [v for k, v in stages["correctness"].items() if k != "env" and isinstance(v, dict) and "ok" in v]
    assert correctness and all(c["ok"] for c in correctness)
    checks = {k: v for k, v in stages["speculative"].items() if k.startswith("check/")}
    assert set(checks) == {"check/truncated/0.0", "check/truncated/0.1", "check/truncated/0.3", "check/random"}
    # greedy speculative output identical to the target alone, at every forced acceptance rate
    assert all(p["identical"] for c in checks.values() for p in c["prompts"])
    assert checks["check/truncated/0.0"]["acceptance_rate"] == 1.0 and checks["check/random"]["acceptance_rate"] < 0.5
    (section,) = tmp_path.glob("device-*.md")
    assert "| draft | damp | concurrent |" in section.read_text()

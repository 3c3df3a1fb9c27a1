"""Runs test_kernels_triton.py in Triton's CPU interpreter, in a child process (TRITON_INTERPRET
is read when triton is first imported, so it cannot be switched on inside this process)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_fused_and_splitkv_kernels_in_interpreter():
    here = Path(__file__).parent
    env = dict(os.environ, TRITON_INTERPRET="1")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-o", "addopts=", "-W", "ignore::DeprecationWarning",
         "-p", "no:cacheprovider", str(here / "test_kernels_triton.py")],
        cwd=here.parent, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout and "skipped" not in proc.stdout

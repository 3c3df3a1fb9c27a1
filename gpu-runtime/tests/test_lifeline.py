"""--parent-pid: a runtime exits when the worker supervising it dies, even by SIGKILL."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from leitai_runtime.__main__ import build_parser
from leitai_runtime.lifeline import alive

RUNTIME_DIR = Path(__file__).resolve().parent.parent

# A stand-in supervisor: starts a child bound to it (through a wrapper process when asked), prints
# the child's pid, then waits to be killed.
SUPERVISOR = """
import os, subprocess, sys, time
child_code, link, wrapped = sys.argv[1:4]
cmd = [sys.executable, "-c", child_code, str(os.getpid()), link]
if wrapped == "wrapped":
    cmd = [sys.executable, "-c", "import subprocess, sys; sys.exit(subprocess.call(sys.argv[1:]))", *cmd]
subprocess.Popen(cmd)
time.sleep(120)
"""
# The bound child: what the runtime does at start with --parent-pid, then it would serve.
CHILD = """
import os, sys, time
from leitai_runtime.lifeline import exit_with_parent
linked = exit_with_parent(int(sys.argv[1]), poll_s=0.1, use_prctl=sys.argv[2] == "prctl")
print(os.getpid(), linked, flush=True)
time.sleep(120)
"""


def wait_until(check, timeout_s: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize(("link", "wrapped", "kernel_link"), [
    ("prctl", "direct", True),  # the runtime under its worker: the kernel kills it
    ("watchdog", "direct", False),  # no prctl (not Linux): re-parenting gives it away
    ("prctl", "wrapped", False),  # a wrapper between them: the watchdog sees the supervisor's pid die
])
def test_bound_child_exits_when_its_supervisor_is_killed(link, wrapped, kernel_link):
    supervisor = subprocess.Popen([sys.executable, "-c", SUPERVISOR, CHILD, link, wrapped], cwd=RUNTIME_DIR,
                                  stdout=subprocess.PIPE, text=True)
    try:
        assert supervisor.stdout is not None
        pid, linked = supervisor.stdout.readline().split()
        child_pid = int(pid)
        assert linked == str(kernel_link)
        assert alive(child_pid)
        supervisor.send_signal(signal.SIGKILL)
        supervisor.wait()
        assert wait_until(lambda: not alive(child_pid)), f"the child {child_pid} outlived its supervisor"
    finally:
        supervisor.kill()


def test_a_supervisor_already_gone_ends_the_runtime_at_once():
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    child = subprocess.run([sys.executable, "-c",
                            f"from leitai_runtime.lifeline import exit_with_parent; exit_with_parent({gone.pid}); "
                            "print('still here')"], cwd=RUNTIME_DIR, capture_output=True, text=True, timeout=60)
    assert child.returncode == 1
    assert "still here" not in child.stdout
    assert f"supervising process {gone.pid} is gone" in child.stderr


def test_parent_pid_flag():
    assert build_parser().parse_args(["--model", "m"]).parent_pid is None
    assert build_parser().parse_args(["--model", "m", "--parent-pid", "4321"]).parent_pid == 4321

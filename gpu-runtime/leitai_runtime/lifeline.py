"""A runtime never outlives the worker that supervises it.

A worker killed with SIGKILL cannot stop its runtime; an orphaned runtime would keep the
device's memory and its port, and the next worker's runtime would fail with "address already in
use". `--parent-pid PID` binds the runtime to its supervisor: the kernel kills it when that
process dies (Linux PR_SET_PDEATHSIG), and a watchdog thread checks once a second where that is
not available or where the supervisor is not the direct parent (a wrapper between them).

The kernel's signal fires when the *thread* that spawned the runtime exits, not the process: a
supervisor must spawn it from a thread that lives as long as it does (Node's main thread, a
Python main thread), or the runtime is killed with that thread.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1
log = logging.getLogger(__name__)


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie, dead but not yet reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
            return f.read().rpartition(")")[2].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return True  # no /proc here: os.kill's answer stands


def set_parent_death_signal(sig: int = signal.SIGKILL) -> bool:
    """Asks the kernel to send `sig` to this process when its parent thread exits (Linux only)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _die(reason: str) -> None:
    # Nothing to drain: the only client of this runtime's requests was the supervisor.
    log.error("exiting: %s", reason)
    logging.shutdown()
    os._exit(1)


def exit_with_parent(parent_pid: int, poll_s: float = 1.0, use_prctl: bool = True) -> bool:
    """Exits this process when `parent_pid` dies. Returns whether the kernel link was made (the
    watchdog runs in every case). Exits at once when the parent is already gone."""
    linked = False
    if use_prctl and os.getppid() == parent_pid:
        # SIGKILL, not SIGTERM: a graceful shutdown would wait on streams nobody reads any more.
        linked = set_parent_death_signal(signal.SIGKILL)
    # The parent may have died before the link was made; then the kernel never signals.
    if not alive(parent_pid) or (linked and os.getppid() != parent_pid):
        _die(f"the supervising process {parent_pid} is gone")
    first_ppid = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(poll_s)
            if not alive(parent_pid):
                _die(f"the supervising process {parent_pid} died")
            if first_ppid == parent_pid and os.getppid() != parent_pid:
                _die(f"the supervising process {parent_pid} died (this runtime was re-parented)")

    threading.Thread(target=watch, name="leitai-lifeline", daemon=True).start()
    return linked

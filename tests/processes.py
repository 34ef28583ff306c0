"""Find and end the processes a test run started, from /proc (Linux).

Every process the suite starts inherits the run's marker variable (tests/conftest.py sets it
in os.environ before any test runs), including processes that left their parent's process
group or session and outlived it: Pulumi starts each plugin in a process group of its own,
the local control plane leads its own sessions. The marker is read from a process's initial
environment (/proc/PID/environ), so it survives re-parenting to init.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

MARKER = "KUBEFLOW_PULUMI_TEST_RUN"
PROC = Path("/proc")


@dataclass(frozen=True)
class ProcessInfo:
    """One live process, as a leftover report shows it."""

    pid: int
    ppid: int
    sid: int
    state: str
    command: str

    def __str__(self) -> str:
        return (
            f"pid {self.pid} (parent {self.ppid}, session {self.sid}, state {self.state}): "
            f"{self.command}"
        )


def pids() -> list[int]:
    """Every process id /proc lists."""
    return [int(entry.name) for entry in PROC.iterdir() if entry.name.isdigit()]


def info(pid: int) -> ProcessInfo | None:
    """What /proc says about `pid`; None once it is gone."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name (field 2) is in parentheses and may hold spaces or ')'.
    name = stat[stat.index("(") + 1 : stat.rindex(")")]
    fields = stat[stat.rindex(")") + 2 :].split()
    command = raw.replace(b"\0", b" ").decode(errors="replace").strip() or f"[{name}]"
    return ProcessInfo(pid, int(fields[1]), int(fields[3]), fields[0], command)


def has_marker(pid: int, marker: str) -> bool:
    """Whether `pid` was started with MARKER=`marker` in its environment."""
    try:
        environ = (PROC / str(pid) / "environ").read_bytes()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return False
    return f"{MARKER}={marker}".encode() in environ.split(b"\0")


def marked(marker: str) -> list[ProcessInfo]:
    """Live processes started with this run's marker, except this process and zombies
    (a zombie is already dead; its parent, if ours, is listed itself)."""
    found = []
    for pid in pids():
        if pid == os.getpid() or not has_marker(pid, marker):
            continue
        process = info(pid)
        if process is not None and process.state != "Z":
            found.append(process)
    return found


def session_members(sid: int) -> list[int]:
    """Live processes (not zombies) of session `sid`."""
    members = []
    for pid in pids():
        try:
            if os.getsid(pid) != sid:
                continue
        except ProcessLookupError:
            continue
        process = info(pid)
        if process is not None and process.state != "Z":
            members.append(pid)
    return members


def kill(pids_to_kill: list[int]) -> None:
    """SIGKILL each pid that still exists."""
    for pid in pids_to_kill:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def kill_session(sid: int, timeout: float = 10.0) -> None:
    """SIGKILL every process of session `sid` (all its process groups) and wait until none
    is left; raise if some survive `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while members := session_members(sid):
        if time.monotonic() > deadline:
            raise RuntimeError(f"session {sid} still has processes after SIGKILL: {members}")
        kill(members)
        time.sleep(0.1)


def wait_for_exit(marker: str, grace: float) -> list[ProcessInfo]:
    """The marked processes still alive after up to `grace` seconds."""
    deadline = time.monotonic() + grace
    left = marked(marker)
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = marked(marker)
    return left

"""Run processes described as data (``ProcessSpec``), detached, beside the local cluster.

A spec holds everything a supervisor needs (argv, env, ports, readiness, stop signals), so
the same specs can be handed to another one (kwokctl's extra components). This runner starts
each process in its own session with its log in ``<state_dir>/logs/<name>.log`` and a pid
file (pid and kernel start time, against pid reuse) in ``<state_dir>/run``, waits until it
serves, and stops it with its stop signals, then SIGKILL.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


class ProcessError(RuntimeError):
    """A process did not start or serve; the message names it, its log and its last lines."""


@dataclass(frozen=True)
class Readiness:
    """A process serves once ``port`` on 127.0.0.1 accepts a connection and, with a
    ``http_path``, a GET of it answers HTTP 200."""

    port: int
    http_path: str | None = None


@dataclass(frozen=True)
class ProcessSpec:
    """One process to run: everything a supervisor needs, nothing in code."""

    name: str
    argv: tuple[str, ...]
    env: Mapping[str, str]
    ports: Mapping[str, int]
    readiness: Readiness
    #: Sent one after another (`stop_interval` apart) to stop it; the KFP server needs two SIGTERMs.
    stop_signals: tuple[int, ...] = (signal.SIGTERM,)
    #: How long it may take to stop after each stop signal but the last.
    stop_interval: float = 2.0
    #: How long it may take after the last stop signal before it gets SIGKILL.
    stop_grace: float = 15.0


EPHEMERAL_PORTS = Path("/proc/sys/net/ipv4/ip_local_port_range")
"""Where Linux keeps the range outgoing connections (and `bind` to port 0) take ports from."""
LOWEST_SERVER_PORT = 10000
"""The lowest port `free_ports` hands out."""


def server_ports(ephemeral: Path = EPHEMERAL_PORTS) -> range:
    """The ports `free_ports` hands out: from LOWEST_SERVER_PORT to below the kernel's
    ephemeral range. A port taken from that range can become an outgoing connection's before
    its server starts (a cluster starting beside it opens hundreds), which then fails to
    listen; empty where the ephemeral range leaves no room."""
    try:
        first = int(ephemeral.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        first = 32768  # Linux's default
    return range(LOWEST_SERVER_PORT, first)


def free_ports(names: tuple[str, ...], candidates: range | None = None) -> dict[str, int]:
    """Distinct TCP ports on 127.0.0.1 that are free right now, by name: random ones of
    `candidates` (`server_ports()`), or ones the kernel picks where those are too few."""
    pool = server_ports() if candidates is None else candidates
    chosen = random.sample(pool, k=min(len(pool), 64 * len(names))) if len(pool) >= 1000 else []
    with contextlib.ExitStack() as stack:
        ports: list[int] = []
        for port in [*chosen, *[0] * len(names)]:
            sock = stack.enter_context(socket.socket())
            with contextlib.suppress(OSError):
                sock.bind(("127.0.0.1", port))
                ports.append(int(sock.getsockname()[1]))
            if len(ports) == len(names):
                return dict(zip(names, ports, strict=True))
    raise OSError(f"no free TCP ports on 127.0.0.1 for {', '.join(names)}")


def _pid_file(state_dir: Path, name: str) -> Path:
    return state_dir / "run" / f"{name}.pid"


def _start_time(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return None if stat[0] in ("Z", "X") else int(stat[19])


def alive(state_dir: Path, name: str) -> int | None:
    """The pid of the recorded process if that very process still runs."""
    with contextlib.suppress(OSError, ValueError):
        pid, started = map(int, _pid_file(state_dir, name).read_text().split())
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # reap it if it was our child
        return pid if _start_time(pid) == started else None
    return None


def spawn(spec: ProcessSpec, state_dir: Path) -> None:
    """Start the process detached (its own session), in state_dir, with its pid file."""
    (state_dir / "logs").mkdir(parents=True, exist_ok=True)
    # The caller's environment too: the test suite marks its processes through it.
    env = {**os.environ, "HOME": str(state_dir), **spec.env}
    with (state_dir / "logs" / f"{spec.name}.log").open("ab") as log:
        proc = subprocess.Popen(
            spec.argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=state_dir,
            env=env,
            start_new_session=True,
        )
    _pid_file(state_dir, spec.name).write_text(f"{proc.pid} {_start_time(proc.pid) or 0}\n")


def _serves(ready: Readiness) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", ready.port), timeout=1):
            pass
        if ready.http_path is None:
            return True
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(f"http://127.0.0.1:{ready.port}{ready.http_path}", timeout=2) as resp:
            return bool(resp.status == 200)
    except (OSError, urllib.error.URLError):
        return False


def log_tail(state_dir: Path, name: str, lines: int = 20) -> str:
    """The last lines of a process's log, for error messages."""
    path = state_dir / "logs" / f"{name}.log"
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return f"(no log at {path})"


def wait_ready(spec: ProcessSpec, state_dir: Path, deadline: float) -> None:
    """Return once the process serves; fail with its log if it exits or time runs out."""
    while not _serves(spec.readiness):
        log = state_dir / "logs" / f"{spec.name}.log"
        if alive(state_dir, spec.name) is None:
            raise ProcessError(
                f"{spec.name} exited before it served on 127.0.0.1:{spec.readiness.port} "
                f"(log {log}):\n{log_tail(state_dir, spec.name)}"
            )
        if time.monotonic() > deadline:
            raise ProcessError(
                f"{spec.name} did not serve on 127.0.0.1:{spec.readiness.port} in time "
                f"(log {log}):\n{log_tail(state_dir, spec.name)}"
            )
        time.sleep(0.2)


def terminate(state_dir: Path, spec: ProcessSpec) -> bool:
    """Send the spec's stop signals to its process group, then SIGKILL; True once gone."""
    last = len(spec.stop_signals) - 1
    for index, sig in enumerate((*spec.stop_signals, signal.SIGKILL)):
        pid = alive(state_dir, spec.name)
        if pid is None:
            return True
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)
        end = time.monotonic() + (spec.stop_grace if index == last else spec.stop_interval)
        while alive(state_dir, spec.name) is not None and time.monotonic() < end:
            time.sleep(0.05)
    return alive(state_dir, spec.name) is None

"""Running kwokctl, and reading the pid files of the processes it started.

kwokctl keeps a cluster in ``$KWOK_WORKDIR/clusters/<name>/``: its configuration
(kwok.yaml), PKI, kubeconfig.yaml, etcd data, ``pids/<component>.pid`` and
``logs/<component>.log``. Every kwokctl call here gets ``KWOK_WORKDIR`` inside the
cluster's state dir, the bin dir first on PATH (kwokctl runs the first ``kubectl``
on PATH: ours, at the pinned version) and no proxy settings.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

CLUSTER_NAME = "kubeflow-local"
_PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
PORTS_LOCK = Path(tempfile.gettempdir()) / "kubeflow-pulumi-local-cluster-ports.lock"
"""The machine-wide lock under which a cluster takes its ports (`ports_taken`)."""


@contextlib.contextmanager
def ports_taken(lock: Path | None = None) -> Iterator[None]:
    """Hold the machine-wide lock while a cluster starts, until its processes listen.

    kwokctl gives a new cluster the first free ports below 32767, free meaning
    that nothing listens there at that moment: two clusters created at once (two test runs
    side by side, two stacks' `make up`) took the same ports, and the later one's processes
    failed with "address already in use"."""
    with (lock or PORTS_LOCK).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class KwokctlError(RuntimeError):
    """A kwokctl command failed; the message holds the command and its output."""


@dataclass(frozen=True)
class ProcessRecord:
    """A pid and the kernel start time of that process (guards against pid reuse)."""

    pid: int
    start_time: int


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """(state, start time) of a process from /proc, or None if there is none."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    fields = raw.rsplit(")", 1)[1].split()
    return fields[0], int(fields[19])


def process_alive(rec: ProcessRecord) -> bool:
    """True if the recorded process still runs (zombies count as gone)."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(rec.pid, os.WNOHANG)
    stat = _proc_stat(rec.pid)
    return stat is not None and stat[1] == rec.start_time and stat[0] not in ("Z", "X")


class Kwokctl:
    """kwokctl for the cluster whose state lives in state_dir."""

    def __init__(self, state_dir: Path, bin_dir: Path) -> None:
        self.state_dir = state_dir
        self.bin_dir = bin_dir
        self.home = state_dir / "kwok"

    @property
    def workdir(self) -> Path:
        """kwokctl's folder of this cluster."""
        return self.home / "clusters" / CLUSTER_NAME

    @property
    def kubeconfig_path(self) -> Path:
        """kwokctl's admin kubeconfig (certificate files in pki/)."""
        return self.workdir / "kubeconfig.yaml"

    def exists(self) -> bool:
        """True once kwokctl has installed the cluster (its kubeconfig is written last)."""
        return (self.workdir / "kwok.yaml").exists() and self.kubeconfig_path.exists()

    def env(self, base: Mapping[str, str]) -> dict[str, str]:
        """The environment of a kwokctl call."""
        env = {k: v for k, v in base.items() if k.lower() not in _PROXY_VARS}
        env["KWOK_WORKDIR"] = str(self.home)
        env["PATH"] = os.pathsep.join([str(self.bin_dir), base.get("PATH", os.defpath)])
        return env

    def argv(self, *args: str) -> list[str]:
        """The command line of one kwokctl call."""
        return [str(self.bin_dir / "kwokctl"), f"--name={CLUSTER_NAME}", *args]

    def run(self, *args: str, timeout: float = 300) -> str:
        """Run kwokctl; its stdout, or KwokctlError with the command and its output."""
        argv = self.argv(*args)
        try:
            done = subprocess.run(
                argv,
                env=self.env(os.environ),
                cwd=self.state_dir,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as err:
            raise KwokctlError(f"`{' '.join(argv)}` took over {timeout:.0f}s") from err
        if done.returncode != 0:
            tail = "\n".join((done.stderr + done.stdout).strip().splitlines()[-30:])
            raise KwokctlError(f"`{' '.join(argv)}` exited {done.returncode}:\n{tail}")
        return done.stdout

    def kubectl(self, *args: str, timeout: float = 120, check: bool = True) -> str:
        """Our kubectl against the cluster (kwokctl's admin kubeconfig); its stdout.

        A failure raises KwokctlError, or, with check=False, returns what it printed.
        """
        argv = [str(self.bin_dir / "kubectl"), f"--kubeconfig={self.kubeconfig_path}", *args]
        env = {k: v for k, v in os.environ.items() if k.lower() not in _PROXY_VARS}
        try:
            done = subprocess.run(
                argv, env=env, capture_output=True, text=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired as err:
            raise KwokctlError(f"`{' '.join(argv)}` took over {timeout:.0f}s") from err
        if check and done.returncode != 0:
            raise KwokctlError(f"`{' '.join(argv)}` exited {done.returncode}:\n{done.stderr}")
        return done.stdout

    def records(self) -> dict[str, ProcessRecord]:
        """The running processes kwokctl recorded, by component (pids/<component>.pid)."""
        records: dict[str, ProcessRecord] = {}
        for path in sorted((self.workdir / "pids").glob("*.pid")):
            with contextlib.suppress(ValueError, OSError):
                pid = int(path.read_text().strip())
                stat = _proc_stat(pid)
                if stat is not None:
                    records[path.stem] = ProcessRecord(pid, stat[1])
        return records

    def forget_dead(self) -> None:
        """Remove the pid files of components that are gone, so kwokctl starts them again.

        kwokctl takes a pid that answers kill -0 for a running component; a zombie does
        (where nothing reaps the orphans), and so would a reused pid.
        """
        for path in (self.workdir / "pids").glob("*.pid"):
            try:
                stat = _proc_stat(int(path.read_text().strip()))
            except (ValueError, OSError):
                stat = None
            if stat is None or stat[0] in ("Z", "X"):
                path.unlink(missing_ok=True)

    def log_tail(self, component: str, lines: int = 25) -> str:
        """The last lines of a component's log, for error messages."""
        path = self.workdir / "logs" / f"{component}.log"
        try:
            text = path.read_text(errors="replace")
        except FileNotFoundError:
            return f"(no log at {path})"
        return "\n".join(text.splitlines()[-lines:])

"""The suite's leftover check (tests/conftest.py) and the session kill (tests/processes.py),
each on a real pytest run or real processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.paths import REPO
from tests.processes import info, kill_session, session_members

CONFTEST = """
import tests.conftest
from tests.conftest import pytest_configure, pytest_sessionfinish  # noqa: F401

tests.conftest.GRACE_SECONDS = 0.5  # the leaked sleep never exits: no need to wait long
"""

LEAKY = """
import subprocess
from pathlib import Path

def test_starts_a_process_in_its_own_session_and_forgets_it():
    child = subprocess.Popen(["sleep", "300"], start_new_session=True)
    Path("leaked.pid").write_text(str(child.pid))
"""

TIDY = """
import subprocess

def test_starts_a_process_and_ends_it():
    child = subprocess.Popen(["sleep", "300"], start_new_session=True)
    child.kill()
    child.wait()
"""


def run_suite(tmp_path: Path, test_module: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_inner.py").write_text(test_module)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_inner.py"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def gone(pid: int) -> bool:
    process = info(pid)
    return process is None or process.state == "Z"


def test_a_run_that_leaves_a_process_fails_and_lists_it(tmp_path: Path) -> None:
    done = run_suite(tmp_path, LEAKY)
    pid = int((tmp_path / "leaked.pid").read_text())
    # (the leaked process as /proc shows it after the run, should the check have missed it)
    assert done.returncode == 1, f"{done.stdout}{done.stderr}leaked: {info(pid)}"
    assert "1 passed" in done.stdout
    assert "1 process(es) started by this test run were still running" in done.stdout
    assert f"pid {pid} " in done.stdout and "sleep 300" in done.stdout
    deadline = time.monotonic() + 5
    while not gone(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert gone(pid), "the check kills what it reports"


def test_a_run_that_ends_its_processes_passes(tmp_path: Path) -> None:
    done = run_suite(tmp_path, TIDY)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "still running" not in done.stdout


def test_kill_session_ends_every_process_group_of_the_session() -> None:
    # A session leader whose child moves to a process group of its own, as pulumi's plugins do.
    script = (
        "import os, subprocess, sys, time\n"
        "child = subprocess.Popen(['sleep', '300'], process_group=0)\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(300)\n"
    )
    leader = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    assert leader.stdout is not None
    child = int(leader.stdout.readline())
    assert os.getpgid(child) != os.getpgid(leader.pid)
    assert sorted(session_members(leader.pid)) == sorted([leader.pid, child])
    kill_session(leader.pid)
    leader.wait()
    assert session_members(leader.pid) == []
    assert gone(child)

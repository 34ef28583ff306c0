"""Suite-wide rule: a test run leaves no process behind. And the fixtures of more than one
test folder (a moto S3 server, a URL nothing serves).

Before any test runs, the run gets a marker variable in os.environ that every process it
starts inherits (pulumi, its plugins, the local control plane, ...). When the run ends, a
process that still carries the marker is a leftover: the run fails, listing it, and the
leftover is killed so the machine is clean for the next run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Generator, Iterator

import pytest
from moto.server import ThreadedMotoServer

from infra.process_runner import free_ports
from tests.processes import MARKER, kill, wait_for_exit

# Processes that are exiting when the run ends (xdist workers, a stopped control plane)
# get this long to go.
GRACE_SECONDS = 10.0


def _is_xdist_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_configure(config: pytest.Config) -> None:
    """A fresh marker per run; xdist workers keep the one their controller gave them."""
    if not _is_xdist_worker(config):
        os.environ[MARKER] = uuid.uuid4().hex


@pytest.hookimpl(wrapper=True)
def pytest_sessionfinish(session: pytest.Session) -> Generator[None, None, None]:
    """After every other plugin finished (xdist has stopped its workers), fail the run if
    a process it started is still alive."""
    yield
    if _is_xdist_worker(session.config):
        return
    left = wait_for_exit(os.environ[MARKER], GRACE_SECONDS)
    if not left:
        return
    kill([process.pid for process in left])
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    lines = [
        f"error: {len(left)} process(es) started by this test run were still running at its "
        "end (killed now); fix: the test that started them must end them, the whole "
        "process group or session (see tests/processes.py):",
        *(f"  {process}" for process in left),
    ]
    for line in lines:
        if reporter is not None:
            reporter.write_line(line, red=True)
        else:
            print(line)
    if session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture
def closed_url() -> str:
    """An http URL on 127.0.0.1 where nothing listens: a free port (`free_ports`)."""
    return f"http://127.0.0.1:{free_ports(('closed',))['closed']}"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    """A moto S3 server on a free loopback port."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()

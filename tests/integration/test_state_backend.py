"""A team state backend on S3: bootstrapped with boto3, used by the real `pulumi login` URL,
and its locks: left by a killed `pulumi up`, cleared by `python -m infra.state_lock`
(`make unlock`) only when their pulumi is gone.

moto's server mode is the S3 endpoint, on loopback.
"""

from __future__ import annotations

import json
import os
import pwd
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from pipelines.state_backend import bootstrap_state_backend
from tests.engine import PulumiProject, require_engine, start_pulumi
from tests.paths import MIRROR, REPO
from tests.processes import kill_session, session_members

pytestmark = pytest.mark.integration

BUCKET = "team-pulumi-state"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
LOCKS = ".pulumi/locks/organization/kubeflow"
LOCKED = "the stack is currently locked by 1 lock(s)"
USER = pwd.getpwuid(os.getuid()).pw_name


@dataclass
class Team:
    """A throwaway project logged in to the moto bucket, with its own PULUMI_HOME."""

    project: PulumiProject
    env: dict[str, str]
    s3: Any
    url: str

    def pulumi(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [require_engine(), "--non-interactive", *args],
            cwd=self.project.root,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        if check:
            assert done.returncode == 0, f"pulumi {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done

    def unlock(self, stack: str, *extra: str) -> subprocess.CompletedProcess[str]:
        """The command `make unlock` runs, as a user runs it (the backend from the login)."""
        return subprocess.run(
            [sys.executable, "-m", "infra.state_lock", stack, *extra],
            cwd=self.project.root,
            env={**self.env, "PYTHONPATH": str(REPO)},
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )

    def locks(self, stack: str) -> list[str]:
        listed = self.s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{LOCKS}/{stack}/")
        return [o["Key"] for o in listed.get("Contents", [])]

    def add_stack(self, name: str, config: str) -> None:
        (self.project.root / "stacks" / f"Pulumi.{name}.yaml").write_text(config)
        self.pulumi("stack", "init", name)


@pytest.fixture(scope="module")
def team(endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    saved = {key: os.environ.get(key) for key in CREDENTIALS}
    os.environ.update(CREDENTIALS)
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=endpoint)
    url = bootstrap_state_backend(s3, BUCKET, "us-east-1", endpoint_url=endpoint)
    project = PulumiProject.create(tmp_path_factory.mktemp("s3-backend"))
    # A home of its own, so this login does not replace the developer's; the plugins are shared.
    home = project.root / "home"
    home.mkdir()
    (home / "plugins").symlink_to(Path(os.environ["PULUMI_HOME"]) / "plugins")
    env = {**project.env, **CREDENTIALS, "PULUMI_HOME": str(home)}
    env.pop("PULUMI_BACKEND_URL")
    team = Team(project, env, s3, url)
    team.pulumi("login", url)
    yield team
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def render_stack(team: Team, components: str) -> str:
    return (
        f"config:\n  kubeflow:cluster: render\n  kubeflow:components: {components}\n"
        f"  kubeflow:manifestMirror: {MIRROR}\n"
        f"  kubeflow:renderDir: {team.project.root / 'out'}\n"
    )


def test_pulumi_keeps_stack_state_in_the_bootstrapped_bucket(team: Team) -> None:
    assert team.url.split("?")[0] in team.pulumi("whoami", "--verbose").stdout
    team.add_stack("team", render_stack(team, "[]"))
    team.pulumi("up", "--yes", "--skip-preview", "--stack", "team")
    keys = [o["Key"] for o in team.s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
    state_key = next(k for k in keys if k.endswith("/team.json"))
    state = json.loads(team.s3.get_object(Bucket=BUCKET, Key=state_key)["Body"].read())
    assert state["checkpoint"]["stack"].endswith("/team")
    assert team.s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    assert team.locks("team") == [], "a finished up releases its lock"


def test_lock_of_a_killed_up_is_cleared_once_its_pulumi_is_gone(team: Team) -> None:
    team.add_stack("crash", render_stack(team, "[pipelines]"))
    up = start_pulumi(team.project.root, team.env, "crash", "up", "--yes", "--skip-preview")
    try:
        deadline = time.monotonic() + 120
        while not team.locks("crash") and up.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        [lock] = team.locks("crash")
        # While that up runs, the lock is its own: unlock refuses, even with --force.
        refused = team.unlock("crash", "--force")
        assert up.poll() is None, "pulumi up ended before unlock could be tried on its lock"
    finally:
        kill_session(up.pid)  # kill -9 of pulumi and its plugins, as a crash would
        up.wait()
    assert session_members(up.pid) == []
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert f"(pid {up.pid})" in refused.stdout
    assert "kept: pulumi still runs on this machine for stack crash" in refused.stdout
    assert team.locks("crash") == [lock], "the killed up left its lock behind"

    blocked = team.pulumi("up", "--yes", "--skip-preview", "--stack", "crash", check=False)
    assert blocked.returncode != 0
    assert LOCKED in blocked.stderr + blocked.stdout

    cleared = team.unlock("crash")
    assert cleared.returncode == 0, cleared.stdout + cleared.stderr
    assert f"taken by {USER}@{socket.gethostname()} (pid {up.pid})" in cleared.stdout
    assert f"deleted {lock}" in cleared.stdout
    assert team.locks("crash") == []
    team.pulumi("up", "--yes", "--skip-preview", "--stack", "crash")
    assert team.locks("crash") == []


def test_lock_taken_on_another_host_is_cleared_only_with_force(team: Team) -> None:
    team.add_stack("elsewhere", render_stack(team, "[]"))
    key = f"{LOCKS}/elsewhere/4c6f1f0e-5b1e-4f57-9d43-2f8e3c1a7b11.json"
    taken = (datetime.now(UTC) - timedelta(hours=2, minutes=5)).isoformat()
    content = {"pid": 31337, "username": "bo", "hostname": "ci-runner-7", "timestamp": taken}
    team.s3.put_object(Bucket=BUCKET, Key=key, Body=json.dumps(content).encode())

    blocked = team.pulumi("up", "--yes", "--skip-preview", "--stack", "elsewhere", check=False)
    assert LOCKED in blocked.stderr + blocked.stdout
    assert "bo@ci-runner-7 (pid 31337)" in blocked.stderr + blocked.stdout

    kept = team.unlock("elsewhere")
    assert kept.returncode == 1
    assert "taken by bo@ci-runner-7 (pid 31337)" in kept.stdout and "2h05m" in kept.stdout
    assert "FORCE=1" in kept.stdout
    assert team.locks("elsewhere") == [key]

    forced = team.unlock("elsewhere", "--force")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert team.locks("elsewhere") == []
    team.pulumi("up", "--yes", "--skip-preview", "--stack", "elsewhere")

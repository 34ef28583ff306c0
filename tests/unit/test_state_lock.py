"""infra.state_lock on file backends laid out as Pulumi's DIY backend lays them out, with real
processes standing in for pulumi, and on S3 (moto in-process). The real engine's locks are
tested in tests/integration/test_state_backend.py."""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from infra.state_lock import FileStore, S3Store, UnlockError, main, open_store, unlock

HERE = socket.gethostname()
LOCKS = ".pulumi/locks/organization/kubeflow/dev"


def write_lock(
    root: Path,
    pid: int,
    hostname: str = HERE,
    when: datetime | None = None,
    folder: str = LOCKS,
    meta: bool = True,
) -> Path:
    if meta:
        (root / ".pulumi").mkdir(parents=True, exist_ok=True)
        (root / ".pulumi" / "meta.yaml").write_text("version: 1\n")
    path = root / folder / "0b5ad6e6-1111-4a4a-9c9c-123456789abc.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    timestamp = (when or datetime.now(UTC)).isoformat().replace("+00:00", "Z")
    content = {"pid": pid, "username": "ada", "hostname": hostname, "timestamp": timestamp}
    path.write_text(json.dumps(content))
    # The metadata file Go CDK's fileblob writes beside every object.
    Path(f"{path}.attrs").write_text('{"user.content_type":"text/plain; charset=utf-8"}')
    return path


def dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


@pytest.fixture
def fake_pulumi(tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Start processes whose command name is `pulumi` (a copy of bash that waits on its
    stdin, taking pulumi's arguments); ended afterwards."""
    binary = tmp_path / "bin" / "pulumi"
    binary.parent.mkdir()
    shutil.copy(shutil.which("bash") or "/bin/bash", binary)
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        process.kill()
        process.wait()


def start(started: list[subprocess.Popen[bytes]], tmp_path: Path, *args: str, **env: str) -> int:
    process = subprocess.Popen(
        [str(tmp_path / "bin" / "pulumi"), "-c", "read -t 300 _", "pulumi", *args],
        stdin=subprocess.PIPE,
        env={**os.environ, **env},
    )
    started.append(process)
    # until the child has exec'd, /proc shows the test's own command and environment
    cmdline = Path(f"/proc/{process.pid}/cmdline")
    deadline = time.monotonic() + 30
    while not cmdline.read_bytes().startswith(bytes(tmp_path / "bin" / "pulumi")):
        assert time.monotonic() < deadline, "the fake pulumi did not start"
        time.sleep(0.01)
    return process.pid


def run(root: Path, force: bool = False) -> tuple[int, str]:
    out = io.StringIO()
    code = unlock(FileStore(f"file://{root}", root), "kubeflow", "dev", force, out)
    return code, out.getvalue()


def test_a_lock_whose_pulumi_is_gone_is_shown_then_deleted(tmp_path: Path) -> None:
    pid = dead_pid()
    lock = write_lock(tmp_path, pid, when=datetime.now(UTC) - timedelta(minutes=7, seconds=3))
    code, out = run(tmp_path)
    assert code == 0
    assert not lock.exists() and not Path(f"{lock}.attrs").exists()
    assert f"taken by ada@{HERE} (pid {pid})" in out
    assert "7m03s ago" in out or "7m04s ago" in out
    assert f"deleted {LOCKS}/{lock.name}" in out


def test_the_empty_attrs_a_killed_write_left_is_removed_once_its_pulumi_is_gone(
    tmp_path: Path, fake_pulumi: list[subprocess.Popen[bytes]]
) -> None:
    stacks = tmp_path / ".pulumi" / "stacks" / "kubeflow"
    stacks.mkdir(parents=True)
    checkpoint = stacks / "dev.json"
    checkpoint.write_text('{"version": 3}')
    torn = stacks / "dev.json.attrs"
    torn.write_text("")
    whole = stacks / "other.json.attrs"
    (stacks / "other.json").write_text("{}")
    whole.write_text('{"user.content_type": "application/json"}')
    # while a pulumi of the stack runs, it may be writing: nothing is touched
    pid = start(fake_pulumi, tmp_path)
    write_lock(tmp_path, pid)
    code, out = run(tmp_path)
    assert code == 1 and torn.exists()
    fake_pulumi[0].kill()
    fake_pulumi[0].wait()
    code, out = run(tmp_path)
    assert code == 0
    assert not torn.exists() and whole.exists() and checkpoint.read_text() == '{"version": 3}'
    assert "repaired .pulumi/stacks/kubeflow/dev.json: removed the empty .attrs" in out


def test_a_lock_held_by_a_live_pulumi_is_kept(
    tmp_path: Path, fake_pulumi: list[subprocess.Popen[bytes]]
) -> None:
    pid = start(fake_pulumi, tmp_path)
    lock = write_lock(tmp_path, pid)
    code, out = run(tmp_path, force=True)
    assert code == 1
    assert lock.exists()
    assert "kept: pulumi still runs on this machine for stack dev" in out
    assert f"pid {pid}: " in out


def test_a_reused_pid_does_not_keep_the_lock(
    tmp_path: Path, fake_pulumi: list[subprocess.Popen[bytes]]
) -> None:
    # The pid is alive and named pulumi, but it started an hour after the lock was taken.
    pid = start(fake_pulumi, tmp_path)
    lock = write_lock(tmp_path, pid, when=datetime.now(UTC) - timedelta(hours=1))
    code, out = run(tmp_path)
    assert code == 0, out
    assert not lock.exists()


def test_another_pulumi_of_the_stack_on_the_same_backend_keeps_the_lock(
    tmp_path: Path, fake_pulumi: list[subprocess.Popen[bytes]]
) -> None:
    lock = write_lock(tmp_path, dead_pid())
    other = start(fake_pulumi, tmp_path, "up", "--stack", "dev", PULUMI_BACKEND_URL="s3://x")
    code, out = run(tmp_path)
    assert code == 0 and not lock.exists(), "a pulumi on another backend is not this stack's"
    write_lock(tmp_path, dead_pid())
    same = start(
        fake_pulumi, tmp_path, "up", "--stack", "dev", PULUMI_BACKEND_URL=f"file://{tmp_path}"
    )
    code, out = run(tmp_path)
    assert code == 1
    assert f"pid {same}: " in out and f"pid {other}: " not in out


def test_a_lock_from_another_host_needs_force(tmp_path: Path) -> None:
    lock = write_lock(tmp_path, 4242, hostname="ci-runner-7", when=datetime.now(UTC))
    code, out = run(tmp_path)
    assert code == 1
    assert lock.exists()
    assert "taken by ada@ci-runner-7 (pid 4242)" in out and "ago" in out
    assert "make unlock STACK=dev FORCE=1" in out
    code, out = run(tmp_path, force=True)
    assert code == 0
    assert not lock.exists()
    assert "--force: deleting a lock taken on another host" in out


def test_the_legacy_layout_keeps_locks_by_stack_name(tmp_path: Path) -> None:
    lock = write_lock(tmp_path, dead_pid(), folder=".pulumi/locks/dev", meta=False)
    code, _ = run(tmp_path)
    assert code == 0 and not lock.exists()


def test_no_lock_is_no_error(tmp_path: Path) -> None:
    code, out = run(tmp_path)
    assert code == 0 and "stack dev: no lock" in out


def test_an_object_that_is_not_a_lock_is_an_error(tmp_path: Path) -> None:
    lock = write_lock(tmp_path, 1)
    lock.write_text("not json")
    with pytest.raises(UnlockError, match="is not a Pulumi lock"):
        run(tmp_path)


def test_the_cli_finds_the_backend_and_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    lock = write_lock(state, dead_pid())
    (tmp_path / "Pulumi.yaml").write_text("name: kubeflow\nruntime: python\n")
    monkeypatch.setenv("PULUMI_BACKEND_URL", f"file://{state}")
    assert main(["dev", "--project-dir", str(tmp_path)]) == 0
    assert not lock.exists()
    monkeypatch.setenv("PULUMI_BACKEND_URL", "gs://team-state")
    assert main(["dev", "--project-dir", str(tmp_path)]) == 2
    assert "only file:// and s3:// backends" in capsys.readouterr().err


def test_the_cli_reads_the_login_when_no_backend_is_exported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    lock = write_lock(state, dead_pid())
    (tmp_path / "Pulumi.yaml").write_text("name: kubeflow\n")
    (tmp_path / "credentials.json").write_text(json.dumps({"current": f"file://{state}"}))
    monkeypatch.delenv("PULUMI_BACKEND_URL", raising=False)
    monkeypatch.setenv("PULUMI_HOME", str(tmp_path))
    assert main(["dev", "--project-dir", str(tmp_path)]) == 0
    assert not lock.exists()


@pytest.mark.usefixtures("fake_aws_credentials")
def test_s3_locks_under_a_prefix() -> None:
    with mock_aws():
        s3 = boto3.client("s3", region_name="eu-west-1")
        s3.create_bucket(
            Bucket="team-state", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        s3.put_object(Bucket="team-state", Key="kf/.pulumi/meta.yaml", Body=b"version: 1\n")
        other = {
            "pid": 7,
            "username": "bo",
            "hostname": "laptop",
            "timestamp": "2026-01-02T03:04:05.123456789Z",
        }
        key = f"kf/{LOCKS}/a.json"
        s3.put_object(Bucket="team-state", Key=key, Body=json.dumps(other).encode())
        store = open_store("s3://team-state/kf?region=eu-west-1")
        assert isinstance(store, S3Store) and store.prefix == "kf/"
        out = io.StringIO()
        assert unlock(store, "kubeflow", "dev", False, out) == 1
        assert "taken by bo@laptop (pid 7) at 2026-01-02T03:04:05+00:00" in out.getvalue()
        assert unlock(store, "kubeflow", "dev", True, io.StringIO()) == 0
        assert "Contents" not in s3.list_objects_v2(Bucket="team-state", Prefix=f"kf/{LOCKS}/")

"""scripts/env.sh turns the engine's automatic log off (KUBEFLOW_PULUMI_AUTOMATIC_LOGS=on
keeps it), seen through the real `pulumi` with a PULUMI_HOME of its own."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.engine import require_engine
from tests.paths import REPO

pytestmark = pytest.mark.integration


def source_env(
    tools_dir: Path, *then: str, logs: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`source scripts/env.sh`, with the tools cache at `tools_dir` and the engine on PATH,
    then the command `then` (if any)."""
    env = {**os.environ, "KUBEFLOW_TOOLS_DIR": str(tools_dir)}
    env.pop("KUBEFLOW_PULUMI_AUTOMATIC_LOGS", None)
    if logs is not None:
        env["KUBEFLOW_PULUMI_AUTOMATIC_LOGS"] = logs
    engine = Path(require_engine()).parent
    script = f'source scripts/env.sh && PATH="{engine}:$PATH" && echo "$PULUMI_HOME"'
    if then:
        script += " && " + " ".join(then)
    return subprocess.run(
        ["bash", "-c", script], cwd=REPO, env=env, capture_output=True, text=True, check=False
    )


def engine_home(tools_dir: Path, logs: str | None = None) -> Path:
    """PULUMI_HOME after `pulumi version` ran with the environment of scripts/env.sh."""
    done = source_env(tools_dir, "pulumi", "version", ">/dev/null", logs=logs)
    assert done.returncode == 0, done.stderr
    return Path(done.stdout.splitlines()[0])


def log_files(home: Path) -> list[Path]:
    return sorted(p for p in home.rglob("*.log") if p.is_file())


def test_the_engine_writes_no_automatic_log(tmp_path: Path) -> None:
    home = engine_home(tmp_path)
    assert (home / "logs").is_symlink() and (home / "logs").readlink() == Path("/dev/null")
    assert log_files(home) == []


def test_on_turns_the_automatic_log_back_on(tmp_path: Path) -> None:
    engine_home(tmp_path)
    home = engine_home(tmp_path, logs="on")
    assert (home / "logs").is_dir()
    assert [p.parent.name for p in log_files(home)] == ["logs"]


def test_turning_it_off_keeps_the_logs_written_before(tmp_path: Path) -> None:
    home = engine_home(tmp_path, logs="on")
    (written,) = log_files(home)
    content = written.read_bytes()
    engine_home(tmp_path, logs="off")
    (kept,) = log_files(home)
    assert kept.parent.name.startswith("logs.kept-") and kept.read_bytes() == content
    assert (home / "logs").is_symlink()


def test_a_misspelt_value_stops_with_the_setting_and_the_fix(tmp_path: Path) -> None:
    done = source_env(tmp_path, "echo", "went-on", logs="no")
    assert done.returncode != 0 and "went-on" not in done.stdout
    assert "KUBEFLOW_PULUMI_AUTOMATIC_LOGS=no" in done.stderr
    assert "fix: set it to on" in done.stderr

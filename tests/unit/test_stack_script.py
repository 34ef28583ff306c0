"""scripts/stack.sh, the path of `make up`, `make refresh` and `make destroy`: the engine's
environment per command, seen by a stand-in `pulumi` that records how it was run."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.paths import REPO

STAND_IN = """#!/usr/bin/env bash
case "$1 $2" in
  "stack ls") echo '[{"name": "ci"}]'; exit 0;;
  "stack export") echo '{"deployment": {"resources": []}}'; exit 0;;
esac
echo "$* skip_checkpoints=${PULUMI_SKIP_CHECKPOINTS:-}" >> "$RECORD"
"""


@pytest.mark.parametrize(
    ("command", "saves_once"),
    [("up", False), ("preview", False), ("refresh", False), ("destroy", True)],
)
def test_only_destroy_saves_the_state_once_at_its_end(
    tmp_path: Path, command: str, saves_once: bool
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "pulumi").write_text(STAND_IN)
    (bin_dir / "pulumi").chmod(0o755)
    record = tmp_path / "record"
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "RECORD": str(record)}
    env.pop("PULUMI_SKIP_CHECKPOINTS", None)
    subprocess.run(
        [str(REPO / "scripts" / "stack.sh"), "ci", command, "--yes"],
        env=env,
        check=True,
        capture_output=True,
    )
    expected = "true" if saves_once else ""
    assert record.read_text().splitlines() == [
        f"--non-interactive {command} --yes --stack ci skip_checkpoints={expected}"
    ]

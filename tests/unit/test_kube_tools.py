"""scripts/kube-tools.sh finds installed binaries at the pinned versions, and only those.

The script runs for real with a PATH of stand-in binaries (shell scripts that print what
the real ones print for their version) and without Go, so nothing can be built: a run
that exits 0 used installed binaries for everything.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.paths import REPO

SCRIPT = REPO / "scripts" / "kube-tools.sh"
K8S = "v1.34.4"
KWOK = "v0.8.0"
ETCD = "v3.6.16"

#: What each binary prints for its version, as the real ones do.
_VERSION_OUTPUT = {
    "kubectl": '{\n  "clientVersion": {\n    "gitVersion": "%s"\n  }\n}',
    "etcd": "etcd Version: %s\nGit SHA: GitNotFound\nGo Version: go1.26.8",
    "kwok": "kwok version %s go1.26.8 (linux/amd64)",
    "kwokctl": "kwokctl version %s go1.26.8 (linux/amd64)",
    "kube-apiserver": "Kubernetes %s",
    "kube-controller-manager": "Kubernetes %s",
    "kube-scheduler": "Kubernetes %s",
}
_PINNED = {"etcd": ETCD, "kwok": KWOK, "kwokctl": KWOK}


def _fake(directory: Path, name: str, version: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    shown = version.removeprefix("v") if name == "etcd" else version
    path = directory / name
    path.write_text(f"#!/bin/sh\ncat <<'OUT'\n{_VERSION_OUTPUT[name] % shown}\nOUT\n")
    path.chmod(0o755)
    return path


def _run(tmp_path: Path, path: list[Path]) -> subprocess.CompletedProcess[str]:
    tools = tmp_path / "tools"
    stages = tools / f"kube-{K8S}" / "kwok-stages"
    stages.mkdir(parents=True)
    files = (
        "node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml "
        "pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml"
    )
    (stages / ".stamp").write_text(f"{KWOK} {files}\n")
    env = {
        "HOME": str(tmp_path),
        "KUBEFLOW_TOOLS_DIR": str(tools),
        # No Go on this PATH: anything not found installed would have to be built.
        "PATH": ":".join([*map(str, path), "/usr/bin", "/bin"]),
    }
    return subprocess.run(
        ["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def installed(tmp_path: Path) -> Path:
    """A folder with every binary at its pinned version."""
    folder = tmp_path / "installed"
    for name in _VERSION_OUTPUT:
        _fake(folder, name, _PINNED.get(name, K8S))
    return folder


def test_binaries_at_the_pinned_versions_are_linked_not_built(
    tmp_path: Path, installed: Path
) -> None:
    out = _run(tmp_path, [installed])
    assert out.returncode == 0, out.stderr
    bin_dir = Path(out.stdout.strip().splitlines()[-1])
    for name in _VERSION_OUTPUT:
        assert (bin_dir / name).resolve() == (installed / name).resolve(), name
    assert "kubectl: using" in out.stderr


def test_a_kubectl_of_another_version_is_not_used(tmp_path: Path, installed: Path) -> None:
    """Like /usr/bin/kubectl v1.32.4 on the development machine: first on PATH, skipped."""
    older = tmp_path / "distro"
    _fake(older, "kubectl", "v1.32.4-dispatcher")
    out = _run(tmp_path, [older, installed])
    assert out.returncode == 0, out.stderr
    bin_dir = Path(out.stdout.strip().splitlines()[-1])
    assert (bin_dir / "kubectl").resolve() == (installed / "kubectl").resolve()
    assert f"reports v1.32.4-dispatcher, not {K8S}: not using it" in out.stderr


def test_without_a_pinned_binary_and_without_go_it_names_the_fix(
    tmp_path: Path, installed: Path
) -> None:
    (installed / "kube-scheduler").unlink()
    _fake(tmp_path / "old", "kube-scheduler", "v1.33.0")
    out = _run(tmp_path, [tmp_path / "old", installed])
    assert out.returncode != 0
    assert "go is not on PATH; it is needed for kube-scheduler" in out.stderr
    assert "reports v1.33.0, not v1.34.4" in out.stderr
    assert not (tmp_path / "tools" / f"kube-{K8S}" / "bin" / "kube-scheduler").exists()

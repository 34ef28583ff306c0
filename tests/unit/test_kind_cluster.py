"""The kind cluster resource's provider, against a recording stand-in for the kind CLI."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from infra.kind_cluster import RESOURCE_NAME, KindClusterProvider, KindError
from tests.unit.mocks import run_stack

FAKE_KIND = """#!/bin/sh
echo "$@" >> "{log}"
case "$1 $2" in
  "get clusters") cat "{clusters}" 2>/dev/null || true ;;
  "create cluster") echo "$4" >> "{clusters}" ;;
  "get kubeconfig") echo "apiVersion: v1  # kubeconfig of $4" ;;
  "delete cluster") : > "{clusters}" ;;
esac
"""


@pytest.fixture
def kind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A `kind` on PATH that records its calls and keeps a list of clusters."""
    log = tmp_path / "calls.log"
    script = tmp_path / "bin" / "kind"
    script.parent.mkdir()
    script.write_text(FAKE_KIND.format(log=log, clusters=tmp_path / "clusters"))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{script.parent}{os.pathsep}{os.environ['PATH']}")
    return log


def test_create_makes_the_cluster_once_and_returns_its_kubeconfig(kind: Path) -> None:
    provider = KindClusterProvider()
    created = provider.create({"name": "kfp-demo"})
    again = provider.create({"name": "kfp-demo"})
    assert created.id == again.id == "kfp-demo"
    assert created.outs is not None and "kubeconfig of kfp-demo" in created.outs["kubeconfig"]
    calls = kind.read_text().splitlines()
    assert calls.count("create cluster --name kfp-demo --wait 120s") == 1


def test_read_drops_a_cluster_deleted_behind_the_stack(kind: Path) -> None:
    provider = KindClusterProvider()
    provider.create({"name": "kfp-demo"})
    assert provider.read("kfp-demo", {"name": "kfp-demo"}).id == "kfp-demo"
    provider.delete("kfp-demo", {})
    assert provider.read("kfp-demo", {"name": "kfp-demo"}).id == ""
    assert "delete cluster --name kfp-demo" in kind.read_text()


def test_a_new_name_replaces_the_cluster() -> None:
    diff = KindClusterProvider().diff("a", {"name": "a"}, {"name": "b"})
    assert diff.changes and diff.replaces == ["name"]


def test_missing_kind_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(KindError, match="kubeflow:cluster = kind needs the `kind` CLI"):
        KindClusterProvider().create({"name": "kfp-demo"})


@pytest.mark.parametrize(("keep_data", "kept"), [(None, True), ("false", False)])
def test_a_stack_that_keeps_data_keeps_its_kind_cluster(keep_data: str | None, kept: bool) -> None:
    """The kind cluster holds the data the stack keeps (keepData: on by default for kind): it
    stays when the stack is destroyed or the cluster renamed (a new name makes a new one)."""
    overrides: dict[str, object] = {"kubeflow:components": ["pipelines"]}  # the cluster's say
    overrides |= {} if keep_data is None else {"kubeflow:keepData": keep_data}
    recorder = run_stack("dev", overrides)
    (cluster,) = [
        r
        for r in recorder.registered
        if r.name == RESOURCE_NAME and r.type == "pulumi-python:dynamic:Resource"
    ]
    assert cluster.retain_on_delete is kept

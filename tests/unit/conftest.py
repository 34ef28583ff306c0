"""Fixtures the unit test modules share."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.component_helpers import mirror_install
from tests.unit.mocks import Recorder


@pytest.fixture
def kube_bin(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """`KUBEFLOW_KUBE_BIN_DIR` set to an empty folder: a local stack needs its control-plane
    binaries' folder to exist (nothing runs under mocks)."""
    monkeypatch.setenv("KUBEFLOW_KUBE_BIN_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture(scope="module")
def mirrored(request: pytest.FixtureRequest) -> Recorder:
    """The test module's `COMPONENT` installed once from the full manifest mirror with its
    default settings (`mirror_install`)."""
    return mirror_install(request.module.COMPONENT)

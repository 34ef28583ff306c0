"""Fixtures the unit test modules share."""

from __future__ import annotations

from collections.abc import Iterator
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


@pytest.fixture(scope="module")
def fake_aws_credentials() -> Iterator[None]:
    """Fake AWS keys for moto, and no profile, endpoint or instance-metadata lookup: nothing
    may leave the loopback."""
    with pytest.MonkeyPatch.context() as env:
        for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
            env.delenv(var, raising=False)
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        env.setenv("AWS_EC2_METADATA_DISABLED", "true")
        yield

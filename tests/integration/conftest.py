"""One real KFP API server per test session, beside a local control plane.

The server, MariaDB and the S3 store are those of ``infra/kfp_server.py``, built by
``scripts/kfp-tools.sh`` (warm: a second); the kube-apiserver is the local cluster's.
Everything runs in the loopback-only network namespace (``make test-integration``).
"""

from __future__ import annotations

import os
import subprocess
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import kfp
import pytest
import yaml

from infra import kfp_server, local_cluster
from tests.paths import REPO


@dataclass(frozen=True)
class RealKfp:
    """The running server: its REST API and the cluster it creates workflows in."""

    api_url: str
    kubeconfig: Path
    namespace: str
    state_dir: Path

    def client(self) -> kfp.Client:
        """The kfp SDK's client, to look at what the server holds."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            return kfp.Client(host=self.api_url)


def spec(name: str) -> str:
    """A minimal pipeline the server accepts: one container task."""
    return yaml.safe_dump(
        {
            "pipelineInfo": {"name": name},
            "schemaVersion": "2.1.0",
            "sdkVersion": "kfp-2.15.2",
            "deploymentSpec": {
                "executors": {"exec-echo": {"container": {"image": "busybox", "args": ["hi"]}}}
            },
            "components": {"comp-echo": {"executorLabel": "exec-echo"}},
            "root": {
                "dag": {
                    "tasks": {
                        "echo": {
                            "componentRef": {"name": "comp-echo"},
                            "taskInfo": {"name": "echo"},
                        }
                    }
                }
            },
        }
    )


def _kfp_bin_dir() -> Path:
    done = subprocess.run(
        [str(REPO / "scripts" / "kfp-tools.sh")],
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    assert done.returncode == 0, f"scripts/kfp-tools.sh failed:\n{done.stderr[-4000:]}"
    return Path(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def real_kfp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealKfp]:
    kube_bin = os.environ.get("KUBEFLOW_KUBE_BIN_DIR", "")
    assert kube_bin, "KUBEFLOW_KUBE_BIN_DIR is not set; fix: run the tests through `make test`"
    root = tmp_path_factory.mktemp("real-kfp")
    cluster_dir, server_dir = root / "cluster", root / "kfp"
    local_cluster.start(cluster_dir, Path(kube_bin))
    try:
        cfg = kfp_server.start(server_dir, _kfp_bin_dir(), cluster_dir / "kubeconfig")
        try:
            yield RealKfp(cfg.api_url, cluster_dir / "kubeconfig", cfg.namespace, server_dir)
        finally:
            kfp_server.stop(server_dir)
    finally:
        local_cluster.stop(cluster_dir)

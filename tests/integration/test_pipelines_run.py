"""`python -m pipelines run hello --name Tagore --on-cluster` against the real KFP API server
(conftest.py): the server creates an Argo Workflow in the simulated cluster, and the run's
state is what the API reports (no pod runs it, no persistence agent reports back)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import RealKfp
from tests.paths import MIRROR, REPO

pytestmark = pytest.mark.integration

#: What KFP 2.15 installs cluster-wide: the kubeflow Namespace, the Argo and KFP CRDs.
CLUSTER_SCOPED = MIRROR / "kfp" / "2.15.0" / "cluster-scoped.yaml"


def kubectl(kfp: RealKfp, *args: str) -> str:
    binary = Path(os.environ["KUBEFLOW_KUBE_BIN_DIR"]) / "kubectl"
    done = subprocess.run(
        [str(binary), f"--kubeconfig={kfp.kubeconfig}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"kubectl {' '.join(args)}:\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def kfp_crds(real_kfp: RealKfp) -> RealKfp:
    """The session's cluster with what KFP needs to create runs in it."""
    kubectl(real_kfp, "apply", "--server-side", "-f", str(CLUSTER_SCOPED))
    kubectl(real_kfp, "wait", "--for=condition=Established", "crd/workflows.argoproj.io")
    return real_kfp


def run_parameters(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    """Every argument parameter of every DAG task of the workflow's templates."""
    return [
        parameter
        for template in workflow["spec"]["templates"]
        for task in (template.get("dag") or {}).get("tasks", [])
        for parameter in (task.get("arguments") or {}).get("parameters", [])
    ]


def test_a_run_on_the_cluster_becomes_an_argo_workflow_with_its_inputs(kfp_crds: RealKfp) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pipelines", "run", "hello", "--name", "Tagore", "--on-cluster"],
        cwd=REPO,
        env={**os.environ, "KF_PIPELINES_ENDPOINT": kfp_crds.api_url},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    printed = dict(line.split(": ", 1) for line in done.stdout.splitlines())
    run_id = printed["run_id"]

    [workflow] = json.loads(
        kubectl(
            kfp_crds,
            "get",
            "workflows.argoproj.io",
            "-n",
            kfp_crds.namespace,
            "-l",
            f"pipeline/runid={run_id}",
            "-o",
            "json",
        )
    )["items"]
    # The root DAG driver gets the pipeline inputs as a JSON runtime config.
    [config] = [p["value"] for p in run_parameters(workflow) if p["name"] == "runtime-config"]
    assert json.loads(config)["parameterValues"] == {"name": "Tagore"}
    driver_args = [
        args
        for template in workflow["spec"]["templates"]
        if (args := (template.get("container") or {}).get("args", []))
        and "--runtime_config" in args
    ]
    assert driver_args, "no driver template takes --runtime_config"

    # Nothing executes the workflow and no persistence agent reports: the run stays pending.
    assert printed["state"] == "PENDING"
    assert kfp_crds.client().get_run(run_id).state == "PENDING"

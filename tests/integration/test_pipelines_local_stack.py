"""The `local` stack as stacks/Pulumi.local.yaml has it (apiUrl moved to a free port), in a
throwaway project: `up` starts the control plane, installs KFP, runs the real KFP API server
beside it and uploads the examples; the `pipelines` output holds the IDs that server returns
for GET; `destroy` leaves neither the pipelines' server nor its data. Marked e2e: the full
platform on a real kube-apiserver, like tests/e2e/test_local_stack.py."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra import kfp_server
from infra.process_runner import free_ports
from tests.engine import PulumiProject, in_loopback_netns
from tests.paths import MIRROR, REPO

pytestmark = pytest.mark.e2e

NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def get(url: str) -> dict[str, Any]:
    with NO_PROXY.open(url, timeout=10) as answer:
        body: dict[str, Any] = json.load(answer)
        return body


def test_up_uploads_the_examples_to_the_stacks_own_kfp_api_and_destroy_removes_it(
    tmp_path: Path,
) -> None:
    assert in_loopback_netns(), "run e2e tests inside scripts/netns.sh (loopback only)"
    stack_file = yaml.safe_load((REPO / "stacks" / "Pulumi.local.yaml").read_text())
    config = {k.removeprefix("kubeflow:"): v for k, v in stack_file["config"].items()}
    api_url = f"http://127.0.0.1:{free_ports(('http',))['http']}"
    config |= {
        "manifestMirror": str(MIRROR),
        "localClusterDir": str(tmp_path / "cluster"),
        "examplePipelines": {**config["examplePipelines"], "apiUrl": api_url},
    }
    stack = PulumiProject.create(tmp_path / "project").stack("local", config)
    server_dir = tmp_path / "cluster-kfp-server"
    try:
        stack.up()
        outputs = stack.outputs()["pipelines"]

        assert set(outputs) == {"hello", "iris"}
        for key, pipeline in outputs.items():
            found = get(f"{api_url}/apis/v2beta1/pipelines/{pipeline['pipeline_id']}")
            assert found["display_name"] == f"{key}-pipeline"
            version = get(pipeline["api_link"])
            assert version["pipeline_id"] == pipeline["pipeline_id"]
            assert version["pipeline_version_id"] == pipeline["version_id"]
        assert kfp_server.is_running(server_dir)
    finally:
        stack.pulumi("destroy", "--yes", "--skip-preview")

    assert not server_dir.exists()
    with pytest.raises(urllib.error.URLError) as gone:  # no server, not one answering an error
        get(f"{api_url}/apis/v2beta1/healthz")
    assert not isinstance(gone.value, urllib.error.HTTPError)
    assert isinstance(gone.value.reason, ConnectionRefusedError), gone.value.reason

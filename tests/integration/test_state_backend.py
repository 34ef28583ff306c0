"""A team state backend on S3: bootstrapped with boto3, used by the real `pulumi login` URL.

moto's server mode is the S3 endpoint, on loopback.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from pipelines.state_backend import bootstrap_state_backend
from tests.engine import PulumiProject, require_engine

pytestmark = pytest.mark.integration

BUCKET = "team-pulumi-state"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def test_pulumi_keeps_stack_state_in_the_bootstrapped_bucket(
    endpoint: str, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=endpoint)
    url = bootstrap_state_backend(s3, BUCKET, "us-east-1", endpoint_url=endpoint)
    project = PulumiProject.create(tmp_path_factory.mktemp("s3-backend"))
    # A home of its own, so this login does not replace the developer's; the plugins are shared.
    home = project.root / "home"
    home.mkdir()
    (home / "plugins").symlink_to(Path(os.environ["PULUMI_HOME"]) / "plugins")
    env = {**project.env, **CREDENTIALS, "PULUMI_HOME": str(home)}
    env.pop("PULUMI_BACKEND_URL")

    def pulumi(*args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [require_engine(), "--non-interactive", *args],
            cwd=project.root,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        assert done.returncode == 0, f"pulumi {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done

    pulumi("login", url)
    assert url.split("?")[0] in pulumi("whoami", "--verbose").stdout
    (project.root / "stacks" / "Pulumi.team.yaml").write_text(
        "config:\n  kubeflow:cluster: render\n  kubeflow:components: []\n"
        f"  kubeflow:renderDir: {project.root / 'out'}\n"
    )
    pulumi("stack", "init", "team")
    pulumi("up", "--yes", "--skip-preview", "--stack", "team")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
    state_key = next(k for k in keys if k.endswith("/team.json"))
    state = json.loads(s3.get_object(Bucket=BUCKET, Key=state_key)["Body"].read())
    assert state["checkpoint"]["stack"].endswith("/team")
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"

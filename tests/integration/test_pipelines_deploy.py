"""KfpPipeline under the real Pulumi engine against FakeKfpApi (127.0.0.1): the dynamic
provider is pickled, run in the engine's provider process, and its state stored at rest."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.engine import REPO, engine_env, require_engine
from tests.unit.pipelines.kfp_api_double import FakeKfpApi

pytestmark = pytest.mark.integration

TOKEN = "kfp-bearer-c0ffee-not-for-state"
SPEC = "pipelineInfo:\n  name: demo\nroot:\n  dag: {tasks: {}}\nschemaVersion: 2.1.0\n"
PROGRAM = """
from pathlib import Path

import pulumi

from pipelines.deploy import KfpPipeline, KfpPipelineArgs, deploy_example_pipelines

config = pulumi.Config()
token = config.get_secret("token")
demo = KfpPipeline(
    "demo",
    KfpPipelineArgs(
        name="demo",
        api_url=config.require("apiUrl"),
        ui_base_url="http://kfp-ui.example",
        package=Path(config.require("specFile")).read_text(),
        token=token,
    ),
)
examples = deploy_example_pipelines(
    config.require("apiUrl"), "http://kfp-ui.example", token=token, examples=["hello"]
)
for key, resource in {"demo": demo, **examples}.items():
    pulumi.export(f"{key}_pipeline_id", resource.pipeline_id)
    pulumi.export(f"{key}_version_id", resource.version_id)
    pulumi.export(f"{key}_ui_url", resource.ui_url)
"""


@pytest.fixture(scope="module")
def kfp() -> Iterator[FakeKfpApi]:
    api = FakeKfpApi().start()
    yield api
    api.stop()


@dataclass
class Stack:
    """A throwaway project running PROGRAM on its own file backend and passphrase."""

    root: Path

    def pulumi(self, *args: str) -> str:
        done = subprocess.run(
            [require_engine(), "--non-interactive", *args, "--stack", "dev"],
            cwd=self.root,
            env=engine_env(self.root),
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert done.returncode == 0, f"pulumi {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def up(self) -> None:
        self.pulumi("up", "--yes", "--skip-preview")

    def outputs(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.pulumi("stack", "output", "--json"))
        return result

    def state(self) -> str:
        [state] = (self.root / "state").rglob("dev.json")
        return state.read_text()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, kfp: FakeKfpApi) -> Stack:
    root = tmp_path_factory.mktemp("kfp-deploy")
    project = {
        "name": "kfp-deploy-test",
        "runtime": {"name": "python", "options": {"virtualenv": str(REPO / ".venv")}},
        "main": "program/",
    }
    (root / "program").mkdir()
    (root / "state").mkdir()
    (root / "Pulumi.yaml").write_text(yaml.safe_dump(project, sort_keys=False))
    (root / "program" / "__main__.py").write_text(PROGRAM)
    (root / "passphrase").write_text("integration-test-passphrase")
    (root / "spec.yaml").write_text(SPEC)
    stack = Stack(root)
    stack.pulumi("stack", "init")
    stack.pulumi("config", "set", "apiUrl", kfp.url)
    stack.pulumi("config", "set", "specFile", str(root / "spec.yaml"))
    stack.pulumi("config", "set", "--secret", "token", TOKEN)
    return stack


def test_create_then_no_op_then_new_version_then_destroy(stack: Stack, kfp: FakeKfpApi) -> None:
    stack.up()
    first = stack.outputs()
    demo_id = first["demo_pipeline_id"]
    assert set(kfp.pipelines) == {demo_id, first["hello_pipeline_id"]}
    assert kfp.pipelines[first["hello_pipeline_id"]]["name"] == "hello-pipeline"
    assert first["demo_ui_url"].endswith(
        f"/#/pipelines/details/{demo_id}/version/{first['demo_version_id']}"
    )
    assert {seen.authorization for seen in kfp.seen} == {f"Bearer {TOKEN}"}

    writes = len(kfp.writes())
    stack.up()
    assert len(kfp.writes()) == writes, "an unchanged spec must not touch KFP"

    (stack.root / "spec.yaml").write_text(SPEC.replace("demo", "demo-v2"))
    stack.up()
    second = stack.outputs()
    assert second["demo_pipeline_id"] == demo_id
    assert second["demo_version_id"] != first["demo_version_id"]
    assert len(kfp.versions[demo_id]) == 2

    state = stack.state()
    assert TOKEN not in state, "the bearer token must be encrypted in the state"
    [demo] = [
        r
        for r in json.loads(state)["checkpoint"]["latest"]["resources"]
        if r["type"] == "pulumi-python:dynamic/kfp:Pipeline" and r["urn"].endswith("::demo")
    ]
    assert "ciphertext" in demo["outputs"]["token"] and "ciphertext" in demo["inputs"]["token"]
    assert TOKEN not in (stack.root / "Pulumi.dev.yaml").read_text()

    stack.pulumi("destroy", "--yes", "--skip-preview")
    assert kfp.pipelines == {}

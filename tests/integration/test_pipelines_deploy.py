"""KfpPipeline under the real Pulumi engine against the real KFP API server (2.15.0, one per
session: conftest.py): the dynamic provider is pickled, run in the engine's provider process,
and talks to the server through the kfp SDK's client; what the server holds is read back with
``kfp.Client``."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest
import yaml
from kfp_server_api.exceptions import ApiException

from pipelines.deploy import package_digest, version_name
from tests.engine import PulumiProject, Stack
from tests.integration.conftest import RealKfp, spec

pytestmark = pytest.mark.integration

TOKEN = "kfp-bearer-c0ffee-not-for-state"
UI = "http://kfp-ui.example"
PROGRAM = """
from pathlib import Path

import pulumi

from pipelines.deploy import KfpPipeline, KfpPipelineArgs, deploy_example_pipelines

config = pulumi.Config()
token = config.get_secret("token")
name = config.require("name")
demo = KfpPipeline(
    "demo",
    KfpPipelineArgs(
        name=name,
        api_url=config.require("apiUrl"),
        ui_base_url="http://kfp-ui.example",
        package=Path(config.require("specFile")).read_text(),
        token=token,
    ),
)
pulumi.export("demo", {"pipeline_id": demo.pipeline_id, "version_id": demo.version_id,
                       "digest": demo.digest, "ui_url": demo.ui_url, "api_link": demo.api_link})
if config.get_bool("examples"):
    for key, resource in deploy_example_pipelines(
        config.require("apiUrl"), "http://kfp-ui.example", token=token, examples=["hello"]
    ).items():
        pulumi.export(key, {"pipeline_id": resource.pipeline_id, "version_id": resource.version_id})
"""


def new_stack(root: Path, api_url: str, name: str, **config: str) -> Stack:
    """A stack of PROGRAM deploying the pipeline spec in root/spec.yaml (`write_spec`)."""
    project = PulumiProject.inline(root, "kfp-deploy-test", PROGRAM)
    write_spec(project, spec(name))
    settings = {"apiUrl": api_url, "name": name, "specFile": str(root / "spec.yaml"), **config}
    return project.stack("dev", settings)


def write_spec(project: PulumiProject, text: str) -> None:
    (project.root / "spec.yaml").write_text(text)


def versions(kfp: RealKfp, pipeline_id: str) -> dict[str, str]:
    """Version ID -> name of every version the server has for the pipeline."""
    found = kfp.client().list_pipeline_versions(pipeline_id, page_size=100).pipeline_versions
    return {v.pipeline_version_id: v.display_name for v in found or []}


def exists(kfp: RealKfp, pipeline_id: str) -> bool:
    try:
        kfp.client().get_pipeline(pipeline_id)
    except ApiException as err:
        assert err.status == 404, err
        return False
    return True


def test_create_no_op_new_version_refresh_and_destroy(tmp_path: Path, real_kfp: RealKfp) -> None:
    stack = new_stack(tmp_path, real_kfp.api_url, "it-lifecycle", examples="true")
    stack.pulumi("config", "set", "--secret", "token", TOKEN)
    v1 = spec("it-lifecycle")

    stack.up()
    first = stack.outputs()
    demo_id, hello_id = first["demo"]["pipeline_id"], first["hello"]["pipeline_id"]
    assert real_kfp.client().get_pipeline(demo_id).display_name == "it-lifecycle"
    assert real_kfp.client().get_pipeline(hello_id).display_name == "hello-pipeline"
    assert versions(real_kfp, demo_id) == {
        first["demo"]["version_id"]: version_name("it-lifecycle", package_digest(v1))
    }
    assert first["demo"]["ui_url"] == (
        f"{UI}/#/pipelines/details/{demo_id}/version/{first['demo']['version_id']}"
    )
    no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with no_proxy.open(first["demo"]["api_link"], timeout=10) as answer:
        assert json.load(answer)["pipeline_version_id"] == first["demo"]["version_id"]

    # Unchanged spec: nothing to do, and the server keeps exactly what it had.
    stack.pulumi("preview", "--expect-no-changes")
    stack.up()
    assert stack.outputs() == first
    assert list(versions(real_kfp, demo_id)) == [first["demo"]["version_id"]]

    # Changed spec: a new version of the same pipeline.
    v2 = spec("it-lifecycle-v2")
    write_spec(stack.project, v2)
    stack.up()
    second = stack.outputs()["demo"]
    assert second["pipeline_id"] == demo_id
    assert second["digest"] == package_digest(v2)
    assert versions(real_kfp, demo_id) == {
        first["demo"]["version_id"]: version_name("it-lifecycle", package_digest(v1)),
        second["version_id"]: version_name("it-lifecycle", package_digest(v2)),
    }

    # The current version deleted behind the stack's back: refresh notices, up uploads again.
    real_kfp.client().delete_pipeline_version(demo_id, second["version_id"])
    stack.pulumi("refresh", "--yes", "--skip-preview")
    stack.up()
    third = stack.outputs()["demo"]
    assert third["pipeline_id"] == demo_id and third["version_id"] != second["version_id"]
    assert versions(real_kfp, demo_id)[third["version_id"]] == version_name(
        "it-lifecycle", package_digest(v2)
    )

    state = stack.state()
    assert TOKEN not in state, "the bearer token must be encrypted in the state"

    stack.pulumi("destroy", "--yes", "--skip-preview")
    assert not exists(real_kfp, demo_id) and not exists(real_kfp, hello_id)


def test_a_spec_the_server_rejects_says_what_to_fix_and_leaves_nothing(
    tmp_path: Path, real_kfp: RealKfp
) -> None:
    stack = new_stack(tmp_path, real_kfp.api_url, "it-rejected")
    # Passes the provider's own check (the server's rules) but has a field KFP does not know.
    bad = yaml.safe_load(spec("it-rejected"))
    bad["root"]["notAField"] = 1
    write_spec(stack.project, yaml.safe_dump(bad))

    done = stack.up(check=False)

    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert "HTTP 500" in output and "Failed to create a pipeline version" in output, output
    assert 'no field named "notAField"' in output
    assert "Fix: upload a spec that the kfp compiler of the server's KFP version wrote" in output
    listed = real_kfp.client().list_pipelines(page_size=100).pipelines or []
    names = [p.display_name for p in listed]
    assert "it-rejected" not in names


def test_an_unreachable_server_is_a_clear_error(tmp_path: Path, closed_url: str) -> None:
    stack = new_stack(tmp_path, closed_url, "it-unreachable")

    done = stack.up(check=False)

    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert f"the KFP API at {closed_url} is unreachable" in output, output
    assert "Check the KFP API URL setting" in output

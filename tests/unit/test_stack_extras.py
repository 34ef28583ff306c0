"""Stack settings beyond the components: S3 artifact store and example pipeline deployment."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components import ComponentArgsError, KubeflowPipelines, MirrorSource, PipelinesArgs
from infra.config import ConfigError
from pipelines.artifact_store import S3ArtifactSettings
from tests.unit.component_helpers import install, registered
from tests.unit.component_helpers import kube_objects as component_kube_objects
from tests.unit.mocks import MIRROR, Recorder, run, run_stack, stack_config


def run_kfp(overrides: dict[str, Any] | None = None) -> Recorder:
    """The ci stack with Kubeflow Pipelines only (these settings concern KFP)."""
    return run_stack("ci", {"kubeflow:components": ["pipelines"], **(overrides or {})})


S3 = {"bucket": "team-kfp-artifacts", "region": "eu-west-1", "credentialsSecret": "kfp-s3"}


def kube_objects(recorder: Recorder) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (r.inputs["kind"], r.inputs["metadata"]["name"]): r.inputs
        for r in recorder.registered
        if r.type.startswith("kubernetes:") and "kind" in r.inputs
    }


def test_artifact_store_points_kfp_at_s3_and_leaves_out_seaweedfs() -> None:
    objects = kube_objects(run_kfp({"kubeflow:artifactStore": S3}))
    install_config = objects[("ConfigMap", "pipeline-install-config")]
    assert install_config["data"]["defaultPipelineRoot"] == "s3://team-kfp-artifacts/artifacts"
    assert ("Secret", "mlpipeline-minio-artifact") not in objects
    assert not [name for kind, name in objects if "seaweedfs" in name]
    text = json.dumps(list(objects.values()))
    assert "minio123" not in text
    assert '"name": "kfp-s3"' in text  # credentials come from the named Secret


def test_bad_artifact_store_is_a_config_error_naming_the_key() -> None:
    with pytest.raises(ConfigError, match=r"artifactStore\.bucket"):
        run_kfp({"kubeflow:artifactStore": {**S3, "bucket": "Not_A_Bucket"}})


def test_example_pipelines_are_deployed_after_the_platform_and_exported() -> None:
    recorder = run_kfp({"kubeflow:examplePipelines": {"apiUrl": "http://127.0.0.1:8888"}})
    pipelines = recorder.of_type("pulumi-python:dynamic/kfp:Pipeline")
    assert sorted(p.name for p in pipelines) == ["kfp-pipeline-hello", "kfp-pipeline-iris"]
    api_server = next(
        r.urn
        for r in recorder.registered
        if r.type == "kubernetes:apps/v1:Deployment" and r.name.endswith("/ml-pipeline")
    )
    # depends_on the platform: the SDK waits on every object the platform holds.
    assert all(api_server in p.dependencies for p in pipelines)
    assert all(p.inputs["api_url"] == "http://127.0.0.1:8888" for p in pipelines)


def test_a_token_in_plain_text_config_is_refused() -> None:
    overrides = {"kubeflow:examplePipelines": {"apiUrl": "http://127.0.0.1:8888", "token": "t0k"}}
    with pytest.raises(ConfigError, match="pulumi config set --secret"):
        run_kfp(overrides)


def test_a_secret_token_is_accepted_and_stays_secret() -> None:
    import runpy

    from tests.unit.mocks import REPO

    config = stack_config(
        "ci",
        {
            "kubeflow:components": ["pipelines"],
            "kubeflow:examplePipelines": {"apiUrl": "http://127.0.0.1:8888", "token": "t0k"},
        },
    )
    import pulumi

    def program() -> None:
        pulumi.runtime.set_all_config(config, ["kubeflow:examplePipelines"])
        runpy.run_path(str(REPO / "infra" / "__main__.py"), run_name="__main__")

    recorder = run(program, stack="ci", config=config)
    assert len(recorder.of_type("pulumi-python:dynamic/kfp:Pipeline")) == 2


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"uiUrl": "http://x"}, "apiUrl required"),
        ({"apiUrl": "ml-pipeline:8888"}, "is not an http(s) URL"),
        ({"apiUrl": "http://x", "pipelines": ["mnist"]}, "examplePipelines.pipelines names"),
    ],
)
def test_bad_example_pipeline_settings(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        run_kfp({"kubeflow:examplePipelines": settings})


def test_objects_take_back_drifted_fields_by_default_and_not_when_disabled() -> None:
    def annotated(recorder: Recorder) -> set[str]:
        return {
            r.name
            for r in recorder.registered
            if r.type.startswith("kubernetes:")
            and ((r.inputs.get("metadata") or {}).get("annotations") or {}).get(
                "pulumi.com/patchForce"
            )
            == "true"
        }

    default = run_kfp()
    objects = [
        r for r in default.registered if r.type.startswith("kubernetes:") and "kind" in r.inputs
    ]
    assert annotated(default) == {r.name for r in objects}
    assert annotated(run_kfp({"kubeflow:repairDrift": False})) == set()


def test_repair_drift_must_be_a_boolean() -> None:
    with pytest.raises(
        ConfigError, match="kubeflow:repairDrift = 'sometimes' must be true or false"
    ):
        run_kfp({"kubeflow:repairDrift": "sometimes"})


def test_artifact_store_is_a_setting_of_the_component_for_python_programs() -> None:
    store = S3ArtifactSettings(
        bucket="team-kfp-artifacts", region="eu-west-1", credentials_secret="kfp-s3"
    )
    args = PipelinesArgs(source=MirrorSource(MIRROR), artifact_store=store)
    recorder = install(KubeflowPipelines, args, "kfp")
    names = {
        (r.inputs["kind"], r.inputs["metadata"]["name"]) for r in component_kube_objects(recorder)
    }
    assert ("Secret", "mlpipeline-minio-artifact") not in names
    assert not [name for _, name in names if "seaweedfs" in name]
    install_config = registered(recorder, "ConfigMap", "pipeline-install-config")
    assert install_config.inputs["data"]["defaultPipelineRoot"].startswith(
        "s3://team-kfp-artifacts"
    )


def test_a_bad_artifact_store_from_python_fails_before_anything_is_registered() -> None:
    store = S3ArtifactSettings(bucket="Not_A_Bucket", region="eu-west-1")
    with pytest.raises(ComponentArgsError, match="artifact store"):
        install(KubeflowPipelines, PipelinesArgs(artifact_store=store), "kfp")

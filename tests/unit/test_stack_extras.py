"""Stack settings beyond the components: S3 artifact store and example pipeline deployment."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pulumi
import pytest
import yaml
from pulumi.runtime import rpc

from components import ComponentArgsError, KubeflowPipelines, MirrorSource, PipelinesArgs
from infra.config import ConfigError
from pipelines.artifact_store import S3ArtifactSettings
from tests.paths import MIRROR
from tests.unit.component_helpers import install, registered
from tests.unit.component_helpers import kube_objects as component_kube_objects
from tests.unit.mocks import Recorder, run, run_stack


def run_kfp(overrides: dict[str, Any] | None = None, recorder: Recorder | None = None) -> Recorder:
    """The ci stack with Kubeflow Pipelines only (these settings concern KFP)."""
    return run_stack("ci", {"kubeflow:components": ["pipelines"], **(overrides or {})}, recorder)


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


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"bucket": 5}, "artifactStore.bucket = 5 must be a string; fix: quote it"),
        ({"prefix": 7}, "artifactStore.prefix = 7 must be a string; fix: quote it"),
        ({"region": ["eu-west-1"]}, "artifactStore.region = ['eu-west-1'] must be a string"),
        ({"credentialsSecret": True}, "artifactStore.credentialsSecret = True must be a string"),
        ({"accessKeyKey": 1}, "artifactStore.accessKeyKey = 1 must be a string"),
        ({"secretKeyKey": {}}, "artifactStore.secretKeyKey = {} must be a string"),
        ({"endpoint": 9000}, "artifactStore.endpoint = 9000 must be a string"),
        (
            {"pathStyle": "false"},
            "artifactStore.pathStyle = 'false' must be true or false; fix: write pathStyle: "
            "true or pathStyle: false, without quotes",
        ),
        ({"pathStyle": 0}, "artifactStore.pathStyle = 0 must be true or false"),
    ],
)
def test_an_artifact_store_value_of_the_wrong_type_names_the_key_before_anything_is_made(
    setting: dict[str, Any], message: str
) -> None:
    recorder = Recorder()
    with pytest.raises(ConfigError) as error:
        run_stack("ci", {"kubeflow:artifactStore": {**S3, **setting}}, recorder)
    assert f"  - kubeflow:{message}" in str(error.value)
    assert recorder.registered == []


def test_path_style_false_reaches_the_launcher_config_as_a_boolean() -> None:
    store = {**S3, "endpoint": "http://minio.storage:9000", "pathStyle": False}
    launcher = kube_objects(run_kfp({"kubeflow:artifactStore": store}))[
        ("ConfigMap", "kfp-launcher")
    ]
    assert yaml.safe_load(launcher["data"]["providers"])["s3"]["default"]["forcePathStyle"] is False


@pytest.fixture
def exported(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """The stack outputs of the next program run, by name, once they resolve."""
    outputs: dict[str, Any] = {}
    export = pulumi.export

    def recording_export(name: str, value: Any) -> None:
        export(name, value)
        pulumi.Output.from_input(value).apply(lambda resolved: outputs.update({name: resolved}))

    monkeypatch.setattr(pulumi, "export", recording_export)
    yield outputs


def test_example_pipelines_are_deployed_after_the_platform_and_exported(
    exported: dict[str, Any],
) -> None:
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
    outputs = {key: value["name"] for key, value in exported["pipelines"].items()}
    assert outputs == {"hello": "hello-pipeline", "iris": "iris-pipeline"}
    assert set(exported["pipelines"]["iris"]) == {
        *("name", "pipeline_id", "version_id", "digest", "ui_url", "api_link")
    }


def test_a_token_in_plain_text_config_is_refused() -> None:
    overrides = {"kubeflow:examplePipelines": {"apiUrl": "http://127.0.0.1:8888", "token": "t0k"}}
    with pytest.raises(ConfigError, match="pulumi config set --secret"):
        run_kfp(overrides)


def test_a_secret_token_is_accepted_and_stays_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    # How the engine tells the program which config values are secrets.
    monkeypatch.setenv("PULUMI_CONFIG_SECRET_KEYS", json.dumps(["kubeflow:examplePipelines"]))
    examples = {"apiUrl": "http://127.0.0.1:8888", "token": "t0k"}
    recorder = run_kfp({"kubeflow:examplePipelines": examples})
    pipelines = recorder.of_type("pulumi-python:dynamic/kfp:Pipeline")
    assert len(pipelines) == 2
    for pipeline in pipelines:
        token = pipeline.inputs["token"]
        assert token[rpc._special_sig_key] == rpc._special_secret_sig
        assert token["value"] == "t0k"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"uiUrl": "http://x"}, "apiUrl required"),
        ({"apiUrl": "ml-pipeline:8888"}, "is not an http:// or https:// URL"),
        ({"apiUrl": "http://x", "pipelines": ["mnist"]}, "examplePipelines.pipelines names"),
        ({"apiUrl": "http://x", "pipelines": []}, "examplePipelines.pipelines is empty"),
        ({"apiUrl": "http://x", "pipelines": [["iris"]]}, "must be a list of strings"),
        ({"apiUrl": "http://x", "pipelines": "iris"}, "must be a list of strings"),
        (
            {"apiUrl": "https://admin:hunter2@kfp.example"},
            "examplePipelines.apiUrl must not carry credentials",
        ),
        (
            {"apiUrl": "http://x", "uiUrl": "https://admin:hunter2@kfp.example"},
            "examplePipelines.uiUrl must not carry credentials",
        ),
        ({"apiUrl": "admin:hunter2@kfp.example"}, "apiUrl is not an http:// or https:// URL"),
    ],
)
def test_bad_example_pipeline_settings(settings: dict[str, Any], message: str) -> None:
    recorder = Recorder()
    with pytest.raises(ConfigError) as error:
        run_kfp({"kubeflow:examplePipelines": settings}, recorder)
    assert message in str(error.value)
    assert "hunter2" not in str(error.value)
    assert recorder.registered == []


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
    recorder = Recorder()
    with pytest.raises(ComponentArgsError, match="artifact store"):
        run(
            lambda: KubeflowPipelines("kfp", PipelinesArgs(artifact_store=store)), recorder=recorder
        )
    assert recorder.registered == []

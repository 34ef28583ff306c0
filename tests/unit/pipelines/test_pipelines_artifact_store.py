"""S3 artifact store: the bucket (moto) and the KFP 2.15 transforms on the real manifests."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import yaml
from botocore.stub import Stubber
from moto import mock_aws

from pipelines.artifact_store import (
    BUNDLED_SECRET,
    S3ArtifactSettings,
    Transform,
    create_artifact_bucket,
    is_bundled_object_store,
    kfp_s3_transforms,
)
from pipelines.s3_bucket import BucketError, S3SettingError
from tests.paths import MIRROR

TARGETS = {
    ("ConfigMap", "pipeline-install-config"),
    ("ConfigMap", "kfp-launcher"),
    ("ConfigMap", "workflow-controller-configmap"),
    ("Deployment", "ml-pipeline"),
    ("Deployment", "ml-pipeline-ui"),
}
WITH_SECRET = S3ArtifactSettings(
    bucket="acme-kfp-artifacts", region="eu-west-1", credentials_secret="kfp-s3-credentials"
)
IRSA = S3ArtifactSettings(bucket="acme-kfp-artifacts", region="eu-west-1")
MINIO = S3ArtifactSettings(
    bucket="kfp",
    region="minio",
    prefix="team-a/runs",
    endpoint_url="http://minio.storage.svc:9000",
    credentials_secret="minio-creds",
    access_key_key="accesskey",
    secret_key_key="secretkey",
)


# --- the bucket ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def s3(fake_aws_credentials: None) -> Iterator[Any]:
    """One moto S3 for the module (fake credentials); each test uses its own bucket names."""
    with mock_aws():
        yield boto3.client("s3", region_name="eu-west-1")


def test_bucket_is_versioned_encrypted_and_private(s3: Any) -> None:
    create_artifact_bucket(s3, "acme-kfp-artifacts", "eu-west-1")

    assert s3.get_bucket_location(Bucket="acme-kfp-artifacts")["LocationConstraint"] == "eu-west-1"
    assert s3.get_bucket_versioning(Bucket="acme-kfp-artifacts")["Status"] == "Enabled"
    [rule] = s3.get_bucket_encryption(Bucket="acme-kfp-artifacts")[
        "ServerSideEncryptionConfiguration"
    ]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    block = s3.get_public_access_block(Bucket="acme-kfp-artifacts")
    assert all(block["PublicAccessBlockConfiguration"].values())
    assert len(block["PublicAccessBlockConfiguration"]) == 4


def test_bucket_with_a_kms_key_uses_sse_kms(s3: Any) -> None:
    create_artifact_bucket(s3, "acme-kfp-kms", "eu-west-1", kms_key_id="alias/kfp")

    [rule] = s3.get_bucket_encryption(Bucket="acme-kfp-kms")["ServerSideEncryptionConfiguration"][
        "Rules"
    ]
    assert rule["ApplyServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": "alias/kfp",
    }


def test_existing_bucket_of_ours_is_adopted_and_hardened(s3: Any) -> None:
    s3.create_bucket(
        Bucket="acme-kfp-existing",
        CreateBucketConfiguration={"LocationConstraint": "eu-west-1"},
    )
    s3.put_object(Bucket="acme-kfp-existing", Key="keep.txt", Body=b"data")

    create_artifact_bucket(s3, "acme-kfp-existing", "eu-west-1")
    create_artifact_bucket(s3, "acme-kfp-existing", "eu-west-1")

    assert s3.get_bucket_versioning(Bucket="acme-kfp-existing")["Status"] == "Enabled"
    assert s3.get_object(Bucket="acme-kfp-existing", Key="keep.txt")["Body"].read() == b"data"


def test_bucket_name_taken_by_another_account_says_choose_another(s3: Any) -> None:
    with Stubber(s3) as stub:
        stub.add_client_error("create_bucket", "BucketAlreadyExists", http_status_code=409)
        with pytest.raises(BucketError, match=r"another account.*choose another bucket name"):
            create_artifact_bucket(s3, "taken-name", "eu-west-1")


@pytest.mark.parametrize(
    ("bucket", "region", "setting"),
    [
        ("Acme_Bucket", "eu-west-1", "bucket"),
        ("ab", "eu-west-1", "bucket"),
        ("192.168.1.1", "eu-west-1", "bucket"),
        ("my..bucket", "eu-west-1", "bucket"),
        ("acme-kfp", "Europe", "region"),
    ],
)
def test_invalid_bucket_settings_are_named_before_any_call(
    s3: Any, bucket: str, region: str, setting: str
) -> None:
    buckets_before = s3.list_buckets()["Buckets"]

    with pytest.raises(S3SettingError, match=f"{setting} .*Fix: set {setting}"):
        create_artifact_bucket(s3, bucket, region)
    assert s3.list_buckets()["Buckets"] == buckets_before


# --- the transforms on the real KFP 2.15.0 objects --------------------------------------


def upstream(version: str) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = []
    for name in ("cluster-scoped.yaml", "platform-agnostic.yaml"):
        with (MIRROR / "kfp" / version / name).open() as handle:
            objects += [o for o in yaml.load_all(handle, Loader=yaml.CSafeLoader) if o]
    return objects


def key(obj: dict[str, Any]) -> tuple[str, str]:
    return obj["kind"], obj["metadata"]["name"]


def apply(transforms: list[Transform], obj: dict[str, Any]) -> dict[str, Any]:
    for transform in transforms:
        obj = transform(obj)
    return obj


@pytest.fixture(scope="module", params=["2.15.0", "2.16.1"])
def objects(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    """Every object of one KFP release (2.15.0 is the default; 2.16.1 is the upgrade)."""
    return upstream(request.param)


def transformed(settings: S3ArtifactSettings, objects: list[Any]) -> dict[tuple[str, str], Any]:
    transforms = kfp_s3_transforms(settings)
    return {key(o): apply(transforms, o) for o in objects if key(o) in TARGETS}


def env_of(deployment: dict[str, Any], container: str) -> dict[str, dict[str, Any]]:
    [found] = [
        c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == container
    ]
    return {e["name"]: e for e in found["env"]}


def secret_ref(env: dict[str, dict[str, Any]], name: str) -> dict[str, Any]:
    ref: dict[str, Any] = env[name]["valueFrom"]["secretKeyRef"]
    return ref


def test_exactly_the_five_object_store_objects_change(objects: list[dict[str, Any]]) -> None:
    pristine = copy.deepcopy(objects)
    transforms = kfp_s3_transforms(WITH_SECRET)

    results = [apply(transforms, obj) for obj in objects]

    changed = {key(new) for new, old in zip(results, pristine, strict=True) if new != old}
    assert changed == TARGETS
    assert objects == pristine  # the inputs were copied, never edited
    for new, old in zip(results, objects, strict=True):
        if key(old) not in TARGETS:
            assert new is old


def test_pipeline_root_and_bucket_point_at_s3(objects: list[dict[str, Any]]) -> None:
    out = transformed(WITH_SECRET, objects)
    install = out[("ConfigMap", "pipeline-install-config")]["data"]
    launcher = out[("ConfigMap", "kfp-launcher")]["data"]

    assert install["bucketName"] == "acme-kfp-artifacts"
    assert install["defaultPipelineRoot"] == "s3://acme-kfp-artifacts/artifacts"
    assert launcher["defaultPipelineRoot"] == "s3://acme-kfp-artifacts/artifacts"
    assert install["dbHost"] == "mysql"  # the rest of the install config is untouched


def test_launcher_providers_use_the_secret_reference(objects: list[dict[str, Any]]) -> None:
    launcher = transformed(WITH_SECRET, objects)[("ConfigMap", "kfp-launcher")]["data"]

    assert yaml.safe_load(launcher["providers"]) == {
        "s3": {
            "default": {
                "endpoint": "s3.eu-west-1.amazonaws.com",
                "region": "eu-west-1",
                "disableSSL": False,
                "forcePathStyle": False,
                "credentials": {
                    "fromEnv": False,
                    "secretRef": {
                        "secretName": "kfp-s3-credentials",
                        "accessKeyKey": "AWS_ACCESS_KEY_ID",
                        "secretKeyKey": "AWS_SECRET_ACCESS_KEY",
                    },
                },
            }
        }
    }


def test_argo_archives_to_the_bucket_keeping_its_key_format(
    objects: list[dict[str, Any]],
) -> None:
    data = transformed(WITH_SECRET, objects)[("ConfigMap", "workflow-controller-configmap")]["data"]
    [original] = [o for o in objects if key(o) == ("ConfigMap", "workflow-controller-configmap")]
    before = yaml.safe_load(original["data"]["artifactRepository"])

    repository = yaml.safe_load(data["artifactRepository"])
    assert repository["archiveLogs"] is True
    assert repository["s3"] == {
        "endpoint": "s3.eu-west-1.amazonaws.com",
        "bucket": "acme-kfp-artifacts",
        "keyFormat": before["s3"]["keyFormat"],
        "insecure": False,
        "region": "eu-west-1",
        "accessKeySecret": {"name": "kfp-s3-credentials", "key": "AWS_ACCESS_KEY_ID"},
        "secretKeySecret": {"name": "kfp-s3-credentials", "key": "AWS_SECRET_ACCESS_KEY"},
    }
    assert data["executor"] == original["data"]["executor"]


def test_api_server_env_points_at_s3(objects: list[dict[str, Any]]) -> None:
    deployment = transformed(WITH_SECRET, objects)[("Deployment", "ml-pipeline")]
    env = env_of(deployment, "ml-pipeline-api-server")
    before = env_of(
        next(o for o in objects if key(o) == ("Deployment", "ml-pipeline")),
        "ml-pipeline-api-server",
    )

    assert env["OBJECTSTORECONFIG_HOST"]["value"] == "s3.eu-west-1.amazonaws.com"
    assert env["OBJECTSTORECONFIG_PORT"]["value"] == "443"
    assert env["OBJECTSTORECONFIG_REGION"]["value"] == "eu-west-1"
    assert env["OBJECTSTORECONFIG_SECURE"]["value"] == "true"
    assert secret_ref(env, "OBJECTSTORECONFIG_ACCESSKEY") == {
        "name": "kfp-s3-credentials",
        "key": "AWS_ACCESS_KEY_ID",
    }
    assert secret_ref(env, "OBJECTSTORECONFIG_SECRETACCESSKEY")["key"] == "AWS_SECRET_ACCESS_KEY"
    assert env["OBJECTSTORECONFIG_BUCKETNAME"] == before["OBJECTSTORECONFIG_BUCKETNAME"]
    unrelated = [n for n in before if not n.startswith("OBJECTSTORECONFIG_")]
    assert [n for n in env if not n.startswith("OBJECTSTORECONFIG_")] == unrelated
    assert all(env[n] == before[n] for n in unrelated)


def test_ui_reads_artifacts_and_logs_from_s3(objects: list[dict[str, Any]]) -> None:
    env = env_of(
        transformed(WITH_SECRET, objects)[("Deployment", "ml-pipeline-ui")], "ml-pipeline-ui"
    )

    assert env["AWS_REGION"]["value"] == "eu-west-1"
    assert env["AWS_S3_ENDPOINT"]["value"] == "s3.eu-west-1.amazonaws.com"
    assert env["AWS_SSL"]["value"] == "true"
    assert env["ARGO_ARCHIVE_ARTIFACTORY"]["value"] == "s3"
    assert env["ARGO_ARCHIVE_BUCKETNAME"]["value"] == "acme-kfp-artifacts"
    assert secret_ref(env, "AWS_ACCESS_KEY_ID")["name"] == "kfp-s3-credentials"
    assert secret_ref(env, "AWS_SECRET_ACCESS_KEY")["key"] == "AWS_SECRET_ACCESS_KEY"
    assert "MINIO_ACCESS_KEY" not in env and "MINIO_SECRET_KEY" not in env


def walk(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    yield path, node
    if isinstance(node, dict):
        for k, v in node.items():
            yield from walk(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from walk(v, f"{path}[{i}]")


@pytest.mark.parametrize("settings", [WITH_SECRET, IRSA, MINIO], ids=["secret", "irsa", "minio"])
def test_no_plaintext_credential_and_no_seaweedfs_secret_anywhere(
    settings: S3ArtifactSettings, objects: list[dict[str, Any]]
) -> None:
    out = transformed(settings, objects)
    text = json.dumps(list(out.values()))

    assert BUNDLED_SECRET not in text
    assert "minio123" not in text
    for obj in out.values():
        for path, node in walk(obj):
            if is_env_var(node) and any(w in node["name"] for w in ("KEY", "SECRET", "PASSWORD")):
                assert "value" not in node, f"{path} holds a literal credential"
                assert set(node["valueFrom"]) <= {"secretKeyRef"}, path


def is_env_var(node: Any) -> bool:
    return isinstance(node, dict) and "name" in node and ("value" in node or "valueFrom" in node)


def test_irsa_leaves_credentials_to_the_default_chain(objects: list[dict[str, Any]]) -> None:
    out = transformed(IRSA, objects)
    api = env_of(out[("Deployment", "ml-pipeline")], "ml-pipeline-api-server")
    ui = env_of(out[("Deployment", "ml-pipeline-ui")], "ml-pipeline-ui")
    launcher = yaml.safe_load(out[("ConfigMap", "kfp-launcher")]["data"]["providers"])
    argo = yaml.safe_load(
        out[("ConfigMap", "workflow-controller-configmap")]["data"]["artifactRepository"]
    )

    assert (
        "OBJECTSTORECONFIG_ACCESSKEY" not in api and "OBJECTSTORECONFIG_SECRETACCESSKEY" not in api
    )
    assert "AWS_ACCESS_KEY_ID" not in ui and "AWS_SECRET_ACCESS_KEY" not in ui
    assert launcher["s3"]["default"]["credentials"] == {"fromEnv": True}
    assert argo["s3"]["useSDKCreds"] is True
    assert "accessKeySecret" not in argo["s3"]


def test_s3_compatible_endpoint_over_http(objects: list[dict[str, Any]]) -> None:
    out = transformed(MINIO, objects)
    api = env_of(out[("Deployment", "ml-pipeline")], "ml-pipeline-api-server")
    launcher = yaml.safe_load(out[("ConfigMap", "kfp-launcher")]["data"]["providers"])["s3"]
    argo = yaml.safe_load(
        out[("ConfigMap", "workflow-controller-configmap")]["data"]["artifactRepository"]
    )

    assert (
        out[("ConfigMap", "kfp-launcher")]["data"]["defaultPipelineRoot"] == "s3://kfp/team-a/runs"
    )
    assert (api["OBJECTSTORECONFIG_HOST"]["value"], api["OBJECTSTORECONFIG_PORT"]["value"]) == (
        "minio.storage.svc",
        "9000",
    )
    assert api["OBJECTSTORECONFIG_SECURE"]["value"] == "false"
    assert launcher["default"]["endpoint"] == "minio.storage.svc:9000"
    assert launcher["default"]["disableSSL"] is True
    assert launcher["default"]["forcePathStyle"] is True
    assert launcher["default"]["credentials"]["secretRef"]["accessKeyKey"] == "accesskey"
    assert (argo["s3"]["endpoint"], argo["s3"]["insecure"]) == ("minio.storage.svc:9000", True)


def test_bundled_seaweedfs_objects_are_recognised(objects: list[dict[str, Any]]) -> None:
    bundled = {key(o) for o in objects if is_bundled_object_store(o)}

    assert ("Deployment", "seaweedfs") in bundled
    assert bundled == {key(o) for o in objects} & {
        ("ServiceAccount", "seaweedfs"),
        ("Secret", BUNDLED_SECRET),
        ("Service", "minio-service"),
        ("Service", "seaweedfs"),
        ("PersistentVolumeClaim", "seaweedfs-pvc"),
        ("Deployment", "seaweedfs"),
        ("NetworkPolicy", "seaweedfs"),
    }


@pytest.mark.parametrize(
    ("change", "setting"),
    [
        ({"bucket": "Not_A_Bucket"}, "artifactStore.bucket"),
        ({"region": "mars"}, "artifactStore.region"),
        ({"endpoint_url": "minio:9000"}, "artifactStore.endpoint"),
        ({"endpoint_url": "https://minio/path"}, "artifactStore.endpoint"),
        ({"prefix": "/runs/"}, "artifactStore.prefix"),
        ({"credentials_secret": "Bad_Secret"}, "artifactStore.credentialsSecret"),
        ({"access_key_key": "access key"}, "artifactStore.accessKeyKey"),
    ],
)
def test_bad_settings_name_the_setting_and_the_fix(change: dict[str, str], setting: str) -> None:
    settings = S3ArtifactSettings(**{**WITH_SECRET.__dict__, **change})

    with pytest.raises(S3SettingError) as raised:
        kfp_s3_transforms(settings)

    assert str(raised.value).startswith(setting)
    assert f"Fix: set {setting}" in str(raised.value)


def test_credentials_in_an_endpoint_url_are_refused_without_echoing_them() -> None:
    settings = S3ArtifactSettings(
        bucket="kfp", region="minio", endpoint_url="https://admin:hunter2@minio:9000"
    )

    with pytest.raises(S3SettingError) as raised:
        kfp_s3_transforms(settings)

    assert "Kubernetes Secret" in str(raised.value)
    assert "hunter2" not in str(raised.value)

"""Point KFP 2.15 at an S3 bucket instead of its bundled SeaweedFS.

``kfp_s3_transforms`` returns transforms over rendered upstream objects (one dict in, one
dict out); they rewrite the five objects that name the object store and pass every other
object through untouched. Credentials are never values: either a ``secretKeyRef`` to a
Kubernetes Secret the operator created, or nothing at all so the pods use the default AWS
chain (IRSA / instance role).
"""

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml

from pipelines.s3_bucket import (
    Endpoint,
    S3SettingError,
    aws_endpoint,
    ensure_private_bucket,
    parse_endpoint_url,
    validate_bucket_name,
    validate_region,
)

K8sObject = dict[str, Any]
Transform = Callable[[K8sObject], K8sObject]

# The SeaweedFS credentials Secret upstream wires into the API server and the UI.
BUNDLED_SECRET = "mlpipeline-minio-artifact"
_API_SERVER_CONTAINER = "ml-pipeline-api-server"
_UI_CONTAINER = "ml-pipeline-ui"


@dataclass(frozen=True)
class S3ArtifactSettings:
    """Where KFP keeps artifacts and pipeline specs, and how its pods authenticate.

    ``credentials_secret`` names a Secret (in the KFP namespace) holding the access key pair
    under ``access_key_key`` / ``secret_key_key``; leave it ``None`` to use IRSA or another
    default-chain credential. ``endpoint_url`` is for S3-compatible stores; unset means AWS.
    """

    bucket: str
    region: str
    prefix: str = "artifacts"
    endpoint_url: str | None = None
    credentials_secret: str | None = None
    access_key_key: str = "AWS_ACCESS_KEY_ID"
    secret_key_key: str = "AWS_SECRET_ACCESS_KEY"
    path_style: bool | None = None

    @property
    def endpoint(self) -> Endpoint:
        """The endpoint to use: the given URL, else the regional AWS one."""
        if self.endpoint_url is None:
            return aws_endpoint(self.region)
        return parse_endpoint_url(self.endpoint_url)

    @property
    def use_path_style(self) -> bool:
        """Path-style addressing: needed by most S3-compatible stores, not by AWS."""
        return self.endpoint_url is not None if self.path_style is None else self.path_style

    @property
    def pipeline_root(self) -> str:
        """The ``s3://bucket/prefix`` KFP writes run artifacts under."""
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"


# Each setting as the stack config names it (Pulumi.yaml ``artifactStore``), for errors.
SETTING_NAMES = {
    "bucket": "artifactStore.bucket",
    "region": "artifactStore.region",
    "endpoint_url": "artifactStore.endpoint",
    "prefix": "artifactStore.prefix",
    "credentials_secret": "artifactStore.credentialsSecret",
    "access_key_key": "artifactStore.accessKeyKey",
    "secret_key_key": "artifactStore.secretKeyKey",
}
_SECRET_NAME_RE = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_SECRET_KEY_RE = re.compile(r"[-._a-zA-Z0-9]+")


def validate_settings(settings: S3ArtifactSettings) -> None:
    """Check every setting up front; each error names the setting and the fix."""
    names = SETTING_NAMES
    validate_bucket_name(settings.bucket, names["bucket"])
    validate_region(settings.region, settings.endpoint_url is not None, names["region"])
    if settings.endpoint_url is not None:
        parse_endpoint_url(settings.endpoint_url, names["endpoint_url"])
    _validate_prefix(settings.prefix, names["prefix"])
    if settings.credentials_secret is not None:
        _validate_k8s(names["credentials_secret"], settings.credentials_secret, _SECRET_NAME_RE)
    _validate_k8s(names["access_key_key"], settings.access_key_key, _SECRET_KEY_RE)
    _validate_k8s(names["secret_key_key"], settings.secret_key_key, _SECRET_KEY_RE)


def _validate_prefix(prefix: str, setting: str) -> None:
    if prefix.startswith("/") or prefix.endswith("/") or "//" in prefix or " " in prefix:
        raise S3SettingError(
            f"{setting} {prefix!r} must be a key prefix without leading, trailing or doubled "
            f"'/' and without spaces. Fix: set {setting} to e.g. 'artifacts' or 'kfp/artifacts'."
        )


def _validate_k8s(setting: str, value: str, pattern: re.Pattern[str]) -> None:
    if len(value) > 253 or not pattern.fullmatch(value):
        raise S3SettingError(
            f"{setting} {value!r} is not a valid Kubernetes Secret name or key. Fix: set "
            f"{setting} to lowercase letters, digits and '-', e.g. 'kfp-s3-credentials'."
        )


def create_artifact_bucket(
    s3_client: Any, bucket: str, region: str, kms_key_id: str | None = None
) -> None:
    """Create (or adopt, if this account owns it) the private, versioned artifact bucket."""
    validate_region(region, custom_endpoint=_is_custom_endpoint(s3_client))
    ensure_private_bucket(s3_client, bucket, region, kms_key_id)


def _is_custom_endpoint(s3_client: Any) -> bool:
    endpoint = str(getattr(getattr(s3_client, "meta", None), "endpoint_url", ""))
    return not endpoint.endswith(".amazonaws.com")


def kfp_s3_transforms(settings: S3ArtifactSettings) -> list[Transform]:
    """Transforms that move KFP 2.15's object store to ``settings``; validates first."""
    validate_settings(settings)
    return [
        _only("ConfigMap", "pipeline-install-config", lambda o: _install_config(o, settings)),
        _only("ConfigMap", "kfp-launcher", lambda o: _launcher_config(o, settings)),
        _only(
            "ConfigMap",
            "workflow-controller-configmap",
            lambda o: _argo_config(o, settings),
        ),
        _only("Deployment", "ml-pipeline", lambda o: _api_server(o, settings)),
        _only("Deployment", "ml-pipeline-ui", lambda o: _ui(o, settings)),
    ]


def is_bundled_object_store(obj: K8sObject) -> bool:
    """True for the SeaweedFS objects that an S3-backed install no longer needs."""
    meta = obj.get("metadata", {})
    labels = meta.get("labels") or {}
    if obj.get("kind") == "Secret" and meta.get("name") == BUNDLED_SECRET:
        return True
    return labels.get("app") == "seaweedfs" or meta.get("name") in ("seaweedfs", "seaweedfs-pvc")


def _only(kind: str, name: str, change: Transform) -> Transform:
    """Apply ``change`` to a deep copy of the one object with this kind and name."""

    def transform(obj: K8sObject) -> K8sObject:
        if obj.get("kind") != kind or obj.get("metadata", {}).get("name") != name:
            return obj
        return change(copy.deepcopy(obj))

    return transform


def _install_config(obj: K8sObject, settings: S3ArtifactSettings) -> K8sObject:
    data = obj.setdefault("data", {})
    data["bucketName"] = settings.bucket
    data["defaultPipelineRoot"] = settings.pipeline_root
    return obj


def _launcher_config(obj: K8sObject, settings: S3ArtifactSettings) -> K8sObject:
    endpoint = settings.endpoint
    default: dict[str, Any] = {
        "endpoint": endpoint.authority,
        "region": settings.region,
        "disableSSL": not endpoint.secure,
        "forcePathStyle": settings.use_path_style,
        "credentials": _launcher_credentials(settings),
    }
    data = obj.setdefault("data", {})
    data["defaultPipelineRoot"] = settings.pipeline_root
    data["providers"] = yaml.safe_dump({"s3": {"default": default}}, sort_keys=False)
    return obj


def _launcher_credentials(settings: S3ArtifactSettings) -> dict[str, Any]:
    if settings.credentials_secret is None:
        return {"fromEnv": True}
    return {
        "fromEnv": False,
        "secretRef": {
            "secretName": settings.credentials_secret,
            "accessKeyKey": settings.access_key_key,
            "secretKeyKey": settings.secret_key_key,
        },
    }


def _argo_config(obj: K8sObject, settings: S3ArtifactSettings) -> K8sObject:
    data = obj.setdefault("data", {})
    repository = yaml.safe_load(data.get("artifactRepository") or "") or {}
    s3 = {
        key: value
        for key, value in (repository.get("s3") or {}).items()
        if key not in ("accessKeySecret", "secretKeySecret", "useSDKCreds")
    }
    s3.update(_argo_s3(settings))
    repository["s3"] = s3
    data["artifactRepository"] = yaml.safe_dump(repository, sort_keys=False)
    return obj


def _argo_s3(settings: S3ArtifactSettings) -> dict[str, Any]:
    endpoint = settings.endpoint
    s3: dict[str, Any] = {
        "endpoint": endpoint.authority,
        "bucket": settings.bucket,
        "region": settings.region,
        "insecure": not endpoint.secure,
    }
    if settings.credentials_secret is None:
        s3["useSDKCreds"] = True
        return s3
    s3["accessKeySecret"] = {"name": settings.credentials_secret, "key": settings.access_key_key}
    s3["secretKeySecret"] = {"name": settings.credentials_secret, "key": settings.secret_key_key}
    return s3


def _api_server(obj: K8sObject, settings: S3ArtifactSettings) -> K8sObject:
    endpoint = settings.endpoint
    env: list[dict[str, Any]] = [
        _value("OBJECTSTORECONFIG_HOST", endpoint.host),
        _value("OBJECTSTORECONFIG_PORT", str(endpoint.port)),
        _value("OBJECTSTORECONFIG_REGION", settings.region),
        _value("OBJECTSTORECONFIG_SECURE", "true" if endpoint.secure else "false"),
    ]
    drop = {"OBJECTSTORECONFIG_ACCESSKEY", "OBJECTSTORECONFIG_SECRETACCESSKEY"}
    if settings.credentials_secret is not None:
        env += _secret_env(
            settings, "OBJECTSTORECONFIG_ACCESSKEY", "OBJECTSTORECONFIG_SECRETACCESSKEY"
        )
    _set_env(_container(obj, _API_SERVER_CONTAINER), env, drop)
    return obj


def _ui(obj: K8sObject, settings: S3ArtifactSettings) -> K8sObject:
    endpoint = settings.endpoint
    env: list[dict[str, Any]] = [
        _value("AWS_REGION", settings.region),
        _value("AWS_S3_ENDPOINT", endpoint.host),
        _value("AWS_SSL", "true" if endpoint.secure else "false"),
        _value("ARGO_ARCHIVE_ARTIFACTORY", "s3"),
        _value("ARGO_ARCHIVE_BUCKETNAME", settings.bucket),
    ]
    drop = {"MINIO_ACCESS_KEY", "MINIO_SECRET_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
    if settings.credentials_secret is not None:
        env += _secret_env(settings, "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
    _set_env(_container(obj, _UI_CONTAINER), env, drop)
    return obj


def _value(name: str, value: str) -> dict[str, Any]:
    return {"name": name, "value": value}


def _secret_env(settings: S3ArtifactSettings, access_var: str, secret_var: str) -> list[Any]:
    secret = settings.credentials_secret
    return [
        {
            "name": access_var,
            "valueFrom": {"secretKeyRef": {"name": secret, "key": settings.access_key_key}},
        },
        {
            "name": secret_var,
            "valueFrom": {"secretKeyRef": {"name": secret, "key": settings.secret_key_key}},
        },
    ]


def _container(obj: K8sObject, name: str) -> dict[str, Any]:
    containers: list[dict[str, Any]] = obj["spec"]["template"]["spec"]["containers"]
    for container in containers:
        if container.get("name") == name:
            return container
    raise ValueError(
        f"{obj['kind']} {obj['metadata']['name']!r} has no container {name!r}: these "
        "transforms target KFP 2.15 manifests; check the KFP version of the component."
    )


def _set_env(container: dict[str, Any], env: list[dict[str, Any]], drop: set[str]) -> None:
    """Replace same-named variables in place, append new ones, remove those in ``drop``."""
    wanted = {item["name"]: item for item in env}
    result: list[dict[str, Any]] = []
    for item in container.get("env") or []:
        name = item.get("name")
        if name in wanted:
            result.append(wanted.pop(name))
        elif name not in drop:
            result.append(item)
    result.extend(wanted.values())
    container["env"] = result

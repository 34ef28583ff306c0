"""The pipeline settings of a stack: KFP's S3 artifact store and the example pipelines to
deploy. Problems are appended to the caller's list, like every other setting's."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from components.args import ComponentArgs
from components.pipelines import PipelinesArgs
from pipelines.artifact_store import S3ArtifactSettings, validate_settings
from pipelines.catalog import EXAMPLES


@dataclass(frozen=True)
class ExamplePipelines:
    """The example pipelines to deploy and the KFP API to deploy them to."""

    api_url: str
    ui_url: str
    pipelines: tuple[str, ...]
    token: str | None = None
    """A bearer token; only ever read from a secret config value."""


ARTIFACT_STORE_KEYS = {
    "bucket": "bucket",
    "region": "region",
    "prefix": "prefix",
    "endpoint": "endpoint_url",
    "credentialsSecret": "credentials_secret",
    "accessKeyKey": "access_key_key",
    "secretKeyKey": "secret_key_key",
    "pathStyle": "path_style",
}


def artifact_store(
    raw: Mapping[str, Any], enabled: list[str], errors: list[str]
) -> S3ArtifactSettings | None:
    """kubeflow:artifactStore, validated (None when unset or invalid)."""
    settings = raw.get("artifactStore")
    if not settings:
        return None
    if "pipelines" not in enabled:
        errors.append(
            "kubeflow:artifactStore is set but pipelines is not enabled; fix: add pipelines "
            "to kubeflow:components or remove kubeflow:artifactStore"
        )
    unknown = sorted(set(settings) - set(ARTIFACT_STORE_KEYS))
    if unknown or not {"bucket", "region"} <= set(settings):
        errors.append(
            f"kubeflow:artifactStore takes {', '.join(ARTIFACT_STORE_KEYS)} (bucket and region "
            f"required); got {', '.join(sorted(settings))}; fix: rename or add the keys"
        )
        return None
    store = S3ArtifactSettings(**{ARTIFACT_STORE_KEYS[k]: v for k, v in settings.items()})
    try:
        validate_settings(store)
    except ValueError as error:
        errors.append(f"kubeflow:{error}")
        return None
    return store


def with_s3(args: ComponentArgs, store: S3ArtifactSettings) -> ComponentArgs:
    """KFP pointed at S3 (`PipelinesArgs.artifact_store`)."""
    if not isinstance(args, PipelinesArgs):
        raise TypeError(f"the artifact store is a setting of pipelines, not of {args!r}")
    return dataclasses.replace(args, artifact_store=store)


def example_pipelines(
    raw: Mapping[str, Any], enabled: list[str], secret_keys: Collection[str], errors: list[str]
) -> ExamplePipelines | None:
    """kubeflow:examplePipelines, validated (None when unset or invalid); a token only from
    a secret config value."""
    settings = raw.get("examplePipelines")
    if not settings:
        return None
    allowed = {"apiUrl", "uiUrl", "pipelines", "token"}
    if not set(settings) <= allowed or "apiUrl" not in settings:
        errors.append(
            f"kubeflow:examplePipelines takes {', '.join(sorted(allowed))} (apiUrl required); "
            f"got {', '.join(sorted(settings))}; fix: rename or add the keys"
        )
        return None
    if "pipelines" not in enabled:
        errors.append(
            "kubeflow:examplePipelines deploys to KFP but pipelines is not enabled; fix: add "
            "pipelines to kubeflow:components"
        )
    if "token" in settings and "kubeflow:examplePipelines" not in secret_keys:
        errors.append(
            "kubeflow:examplePipelines.token is stored in plain text; fix: pulumi config set "
            "--secret --path 'kubeflow:examplePipelines.token' <token>"
        )
    url_errors = [
        f"kubeflow:examplePipelines.{key} = {settings[key]!r} is not an http(s) URL; fix: "
        "e.g. http://localhost:8888 (port-forward of ml-pipeline) or your KFP ingress"
        for key in ("apiUrl", "uiUrl")
        if key in settings and urlparse(str(settings[key])).scheme not in ("http", "https")
    ]
    errors += url_errors
    pipelines = settings.get("pipelines", list(EXAMPLES))
    unknown = [p for p in pipelines if p not in EXAMPLES]
    if unknown:
        errors.append(
            f"kubeflow:examplePipelines.pipelines names {unknown}; fix: use any of "
            f"{', '.join(EXAMPLES)}"
        )
    return ExamplePipelines(
        api_url=settings["apiUrl"],
        ui_url=settings.get("uiUrl", settings["apiUrl"]),
        pipelines=tuple(pipelines),
        token=settings.get("token"),
    )
